import type { KeyboardEvent } from "react";

import type { Folder } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { useChildFolders } from "./queries";

interface TreeProps {
  selectedId: string | null;
  expanded: ReadonlySet<string>;
  onSelect: (folder: Folder) => void;
  onToggle: (folderId: string, open: boolean) => void;
}

/** The folder tree: the top level first, each folder's children fetched when it is opened.
 * Arrow keys move between rows, Right opens and Left closes (or goes to the parent). */
export function FolderTree(props: TreeProps) {
  return (
    <div className="tree" role="tree" aria-label="Folders" onKeyDown={(event) => moveFocus(event, props)}>
      <FolderLevel parentId={null} depth={1} {...props} />
    </div>
  );
}

function FolderLevel({ parentId, depth, ...props }: TreeProps & { parentId: string | null; depth: number }) {
  const query = useChildFolders(parentId);
  const folders = query.data?.pages.flatMap((page) => page.results) ?? [];
  if (query.isPending) return <p className="tree-note">Loading…</p>;
  if (query.error) return <ErrorMessage error={query.error} context="Folders could not be listed" />;
  if (folders.length === 0) {
    return <p className="tree-note">{parentId === null ? "No folders yet: create one with + New folder." : "No subfolders"}</p>;
  }
  return (
    <ul role={parentId === null ? "presentation" : "group"}>
      {folders.map((folder) => (
        <FolderNode key={folder.id} folder={folder} depth={depth} {...props} />
      ))}
      {query.hasNextPage ? (
        <li role="none">
          <button type="button" className="tree-more" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            More folders…
          </button>
        </li>
      ) : null}
    </ul>
  );
}

function FolderNode({ folder, depth, ...props }: TreeProps & { folder: Folder; depth: number }) {
  const open = props.expanded.has(folder.id);
  const selected = props.selectedId === folder.id;
  return (
    <li role="treeitem" aria-expanded={open} aria-selected={selected} aria-level={depth} aria-label={folder.name}>
      <div className={`tree-row${selected ? " selected" : ""}`} style={{ paddingLeft: `${(depth - 1) * 16}px` }}>
        <button
          type="button"
          className="tree-toggle"
          tabIndex={-1}
          aria-label={open ? `Close ${folder.name}` : `Open ${folder.name}`}
          onClick={() => props.onToggle(folder.id, !open)}
        >
          {open ? "▾" : "▸"}
        </button>
        <button
          type="button"
          className="tree-label"
          data-folder-id={folder.id}
          data-parent-id={folder.parent_id ?? ""}
          data-open={open ? "true" : "false"}
          onClick={() => props.onSelect(folder)}
        >
          {folder.name}
        </button>
      </div>
      {open ? <FolderLevel parentId={folder.id} depth={depth + 1} {...props} /> : null}
    </li>
  );
}

function moveFocus(event: KeyboardEvent<HTMLDivElement>, props: TreeProps) {
  const current = event.target as HTMLElement;
  const id = current.dataset.folderId;
  if (!id) return;
  const labels = Array.from(event.currentTarget.querySelectorAll<HTMLButtonElement>("button.tree-label"));
  const at = labels.indexOf(current as HTMLButtonElement);
  const focus = (target: HTMLButtonElement | undefined) => {
    if (!target) return;
    event.preventDefault();
    target.focus();
  };
  switch (event.key) {
    case "ArrowDown":
      return focus(labels[at + 1]);
    case "ArrowUp":
      return focus(labels[at - 1]);
    case "Home":
      return focus(labels[0]);
    case "End":
      return focus(labels[labels.length - 1]);
    case "ArrowRight":
      if (current.dataset.open !== "true") {
        event.preventDefault();
        props.onToggle(id, true);
      } else focus(labels[at + 1]);
      return;
    case "ArrowLeft":
      if (current.dataset.open === "true") {
        event.preventDefault();
        props.onToggle(id, false);
      } else focus(labels.find((label) => label.dataset.folderId === current.dataset.parentId));
      return;
  }
}
