import { useState, type FormEvent } from "react";

import type { Folder } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { useCreateFolder, useDeleteFolder, useRenameFolder } from "./queries";

type Mode = "create" | "rename" | "delete" | null;

interface Props {
  selected: Folder | null;
  onCreated: (folder: Folder) => void;
  onRenamed: (folder: Folder) => void;
  onDeleted: (folder: Folder) => void;
}

/** "+ New folder" (inside the selected folder, or at the top level), rename and delete. */
export function FolderActions({ selected, onCreated, onRenamed, onDeleted }: Props) {
  const [mode, setMode] = useState<Mode>(null);
  const close = () => setMode(null);
  return (
    <div className="folder-actions">
      <div className="toolbar" role="toolbar" aria-label="Folder actions">
        <button type="button" onClick={() => setMode("create")} aria-pressed={mode === "create"}>
          + New folder
        </button>
        <button type="button" onClick={() => setMode("rename")} disabled={!selected} aria-pressed={mode === "rename"}>
          Rename
        </button>
        <button type="button" onClick={() => setMode("delete")} disabled={!selected} aria-pressed={mode === "delete"}>
          Delete
        </button>
      </div>
      {mode === "create" ? (
        <CreateForm parent={selected} onDone={(folder) => (close(), onCreated(folder))} onCancel={close} />
      ) : null}
      {mode === "rename" && selected ? (
        <RenameForm key={selected.id} folder={selected} onDone={(folder) => (close(), onRenamed(folder))} onCancel={close} />
      ) : null}
      {mode === "delete" && selected ? (
        <DeleteForm key={selected.id} folder={selected} onDone={() => (close(), onDeleted(selected))} onCancel={close} />
      ) : null}
    </div>
  );
}

function CreateForm({ parent, onDone, onCancel }: { parent: Folder | null; onDone: (f: Folder) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const create = useCreateFolder();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), parentId: parent?.id ?? null }, { onSuccess: onDone });
  };
  return (
    <form className="panel" onSubmit={submit} aria-label="New folder" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <label htmlFor="new-folder-name">New folder {parent ? `in “${parent.name}”` : "at the top level"}</label>
      <input id="new-folder-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      <div className="panel-buttons">
        <button type="submit" disabled={create.isPending}>
          Create
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorMessage error={create.error} context="The folder was not created" />
    </form>
  );
}

function RenameForm({ folder, onDone, onCancel }: { folder: Folder; onDone: (f: Folder) => void; onCancel: () => void }) {
  const [name, setName] = useState(folder.name);
  const rename = useRenameFolder();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate({ id: folder.id, name: name.trim() }, { onSuccess: onDone });
  };
  return (
    <form className="panel" onSubmit={submit} aria-label="Rename folder" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <label htmlFor="rename-folder-name">Rename “{folder.name}” to</label>
      <input id="rename-folder-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      <div className="panel-buttons">
        <button type="submit" disabled={rename.isPending}>
          Rename
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorMessage error={rename.error} context="The folder was not renamed" />
    </form>
  );
}

function DeleteForm({ folder, onDone, onCancel }: { folder: Folder; onDone: () => void; onCancel: () => void }) {
  const [recursive, setRecursive] = useState(false);
  const remove = useDeleteFolder();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    remove.mutate({ folder, recursive }, { onSuccess: onDone });
  };
  return (
    <form className="panel danger" onSubmit={submit} aria-label="Delete folder" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <p>Delete “{folder.name}”?</p>
      <label className="check">
        <input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} />
        also delete its subfolders and items
      </label>
      <div className="panel-buttons">
        <button type="submit" className="danger" disabled={remove.isPending} autoFocus>
          Delete
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorMessage error={remove.error} context="The folder was not deleted" />
    </form>
  );
}
