import { useState, type FormEvent } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { controlsOf, type Controls, type FilterKey, type FilterNode } from "./filter";
import { useDeletePreset, usePresets, usePresetWhere, useSavePreset } from "./queries";

/** Saved filters: save the current one under a name; open (its tree back in the controls) or
 * delete a saved one (/api/v1/presets). */
export function PresetsPanel({ keys, where, onOpen }: {
  keys: FilterKey[];
  where: FilterNode | null;
  onOpen: (controls: Controls) => void;
}) {
  const [name, setName] = useState("");
  const [notice, setNotice] = useState("");
  const presets = usePresets();
  const save = useSavePreset();
  const remove = useDeletePreset();
  const open = usePresetWhere();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!where || !name.trim()) return;
    save.mutate({ name: name.trim(), filter: where }, { onSuccess: (made) => {
      setName("");
      setNotice(`Saved "${made.name}"`);
    } });
  };
  const reopen = (id: string, presetName: string) =>
    open.mutate(id, {
      onSuccess: (tree) => {
        const controls = controlsOf(keys, tree);
        if (controls) {
          onOpen(controls);
          setNotice(`Opened "${presetName}"`);
        } else {
          setNotice(`"${presetName}" uses conditions these controls cannot show: ${JSON.stringify(tree)}`);
        }
      },
    });
  return (
    <section className="panel" aria-label="Saved filters">
      <h3>Saved filters</h3>
      <form className="inline-form" onSubmit={submit}>
        <label>
          Preset name <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <button type="submit" disabled={!where || !name.trim() || save.isPending} title={where ? "" : "set a filter first"}>
          Save filter
        </button>
      </form>
      <p className="count" aria-live="polite">
        {notice}
      </p>
      <ErrorMessage error={save.error ?? remove.error ?? open.error ?? presets.error} context="Presets" />
      <ul className="plain-list" aria-label="Presets">
        {(presets.data?.results ?? []).map((preset) => (
          <li key={preset.id}>
            <span className="preset-name">{preset.name}</span>{" "}
            <button type="button" onClick={() => reopen(preset.id, preset.name)} disabled={!preset.evaluable} aria-label={`Open ${preset.name}`}>
              Open
            </button>{" "}
            <button type="button" onClick={() => remove.mutate(preset.id)} aria-label={`Delete ${preset.name}`}>
              Delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
