import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { unwrap, type Folder, type Job } from "../api/client";
import { useApi } from "../api/context";
import { refreshQueries } from "../api/refresh";
import { ErrorMessage } from "../components/ErrorMessage";
import { ItemViewer } from "../items/ItemViewer";
import { StartedJob } from "../jobs/StartedJob";
import { linkProps, navigate, paths } from "../router";
import { ImportDialog } from "../upload/ImportDialog";
import { UploadMenu } from "../upload/UploadMenu";
import { FolderActions } from "./FolderActions";
import { FolderTree } from "./FolderTree";
import { ItemList } from "./ItemList";
import { folderKeys } from "./queries";

// the folders opened in the tree, kept while the tab lives (the job page replaces this screen)
let openedFolders: ReadonlySet<string> = new Set();

/** Files: the folder tree beside the selected folder's items; /files/<folder id> names the
 * selection (and /files/<folder id>/items/<item id> the item open in the viewer), so a link or
 * a reload opens the same folder and item. */
export function FilesScreen({ folderId, itemId }: { folderId: string | null; itemId: string | null }) {
  const api = useApi();
  const client = useQueryClient();
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(openedFolders);
  const [importing, setImporting] = useState(false);
  const [started, setStarted] = useState<Job | null>(null);

  const selected = useQuery({
    queryKey: ["folder", folderId],
    enabled: folderId !== null,
    queryFn: () => unwrap(api.GET("/api/v1/folders/{folder_id}", { params: { path: { folder_id: folderId! } } })),
  });

  const select = useCallback((folder: Folder | null) => {
    setStarted(null);
    navigate(folder ? paths.folder(folder.id) : "/");
  }, []);

  const toggle = useCallback((id: string, open: boolean) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (open) next.add(id);
      else next.delete(id);
      openedFolders = next;
      return next;
    });
  }, []);

  const folder = folderId !== null ? selected.data ?? null : null;
  const upload = folder ? (
    <>
      <a className="button-link" {...linkProps(paths.filters(folder.id))}>
        Filter this folder
      </a>
      <UploadMenu onImport={() => setImporting(true)} />
    </>
  ) : null;
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
            void refreshQueries(client, folderKeys.all);
            select(null);
          }}
        />
        <FolderTree selectedId={folderId} expanded={expanded} onSelect={select} onToggle={toggle} />
      </aside>
      <main className="content">
        {folderId === null ? <p className="empty">Select a folder to see its items.</p> : null}
        <ErrorMessage error={selected.error} context="This folder could not be opened" />
        {started && folder && started.folder_id === folder.id ? <StartedJob started={started} /> : null}
        {folder ? <ItemList key={folder.id} folder={folder} actions={upload} /> : null}
      </main>
      {importing && folder ? (
        <ImportDialog
          folder={folder}
          onClose={() => setImporting(false)}
          onStarted={(job) => {
            setImporting(false);
            setStarted(job);
          }}
        />
      ) : null}
      {itemId && folderId ? <ItemViewer itemId={itemId} onClose={() => navigate(paths.folder(folderId))} /> : null}
    </div>
  );
}
