import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";

import { unwrap, type Folder } from "../api/client";
import { useApi } from "../api/context";
import { ErrorMessage } from "../components/ErrorMessage";
import { FolderActions } from "./FolderActions";
import { FolderTree } from "./FolderTree";
import { ItemList } from "./ItemList";
import { folderKeys } from "./queries";

const FOLDER_PATH = /^\/files\/([0-9a-f-]{36})\/?$/i;

export function folderIdInPath(pathname: string): string | null {
  return FOLDER_PATH.exec(pathname)?.[1] ?? null;
}

/** Files: the folder tree beside the selected folder's items; /files/<folder id> names the
 * selection, so a link or a reload opens the same folder. */
export function FilesScreen() {
  const api = useApi();
  const client = useQueryClient();
  const [folderId, setFolderId] = useState<string | null>(() => folderIdInPath(window.location.pathname));
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());

  useEffect(() => {
    const onPop = () => setFolderId(folderIdInPath(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const selected = useQuery({
    queryKey: ["folder", folderId],
    enabled: folderId !== null,
    queryFn: () => unwrap(api.GET("/api/v1/folders/{folder_id}", { params: { path: { folder_id: folderId! } } })),
  });

  const select = useCallback((folder: Folder | null) => {
    setFolderId(folder?.id ?? null);
    const path = folder ? `/files/${folder.id}` : "/";
    if (window.location.pathname !== path) window.history.pushState(null, "", path);
  }, []);

  const toggle = useCallback((id: string, open: boolean) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (open) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);

  const folder = folderId !== null ? selected.data ?? null : null;
  return (
    <div className="files">
      <aside className="sidebar" aria-label="Folder tree">
        <FolderActions
          selected={folder}
          onCreated={(created) => {
            if (created.parent_id) toggle(created.parent_id, true);
            select(created);
          }}
          onRenamed={(renamed) => client.setQueryData(["folder", renamed.id], renamed)}
          onDeleted={(deleted) => {
            client.removeQueries({ queryKey: ["folder", deleted.id] });
            void client.invalidateQueries({ queryKey: folderKeys.all });
            select(null);
          }}
        />
        <FolderTree selectedId={folderId} expanded={expanded} onSelect={select} onToggle={toggle} />
      </aside>
      <main className="content">
        {folderId === null ? <p className="empty">Select a folder to see its items.</p> : null}
        <ErrorMessage error={selected.error} context="This folder could not be opened" />
        {folder ? <ItemList key={folder.id} folder={folder} /> : null}
      </main>
    </div>
  );
}
