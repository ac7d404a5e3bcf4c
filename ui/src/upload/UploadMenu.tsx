import { useEffect, useRef, useState } from "react";

/** "Upload files": a menu whose entry "Import from cloud data" opens the import dialog. */
export function UploadMenu({ onImport }: { onImport: () => void }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const entry = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    entry.current?.focus();
    const onPointer = (event: PointerEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  return (
    <div
      className="menu-box"
      ref={box}
      onKeyDown={(event) => {
        if (event.key === "Escape" && open) {
          setOpen(false);
          button.current?.focus();
        }
      }}
    >
      <button
        ref={button}
        type="button"
        className="primary"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        onKeyDown={(event) => event.key === "ArrowDown" && (event.preventDefault(), setOpen(true))}
      >
        Upload files ▾
      </button>
      {open ? (
        <div className="menu" role="menu" aria-label="Upload files">
          <button
            ref={entry}
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              button.current?.focus(); // where the dialog returns focus when it closes
              onImport();
            }}
          >
            Import from cloud data
          </button>
        </div>
      ) : null}
    </div>
  );
}
