import { IntegrationsPanel } from "./IntegrationsPanel";
import { SchemaPanel } from "./SchemaPanel";

/** Schema and integrations (/setup): what an administrator sets up before registering files. */
export function SetupScreen() {
  return (
    <main className="content setup">
      <h2>Schema and integrations</h2>
      <div className="panels">
        <SchemaPanel />
        <IntegrationsPanel />
      </div>
    </main>
  );
}
