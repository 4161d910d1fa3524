// What a fault scenario must undo even when it is interrupted (Ctrl-C, a killed runner): processes it
// SIGSTOPped, a cluster it started, a tmpfs it mounted, a server it spawned. Each is registered while it is
// in place and unregistered once undone; on SIGINT or SIGTERM they are undone, newest first, and the run ends.
const tasks = new Set<() => void>();
let installed = false;

function undoAll(): void {
  for (const t of [...tasks].reverse()) {
    try {
      t();
    } catch {
      // the next one still runs
    }
  }
  tasks.clear();
}

/** Registers `undo` until the returned function is called (which unregisters it without running it). */
export function untilDone(undo: () => void): () => void {
  if (!installed) {
    installed = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        undoAll();
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
  }
  tasks.add(undo);
  return () => void tasks.delete(undo);
}
