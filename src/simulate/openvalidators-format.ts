import { pyFloat } from './python-json.js';

/**
 * The loguru `serialize=True` line wrapping an OpenValidators event (`members` = the event's JSON
 * members), for a log call at unix time `timestamp`, `elapsedSeconds` after the process started.
 */
export function loguruWrapper(members: string, timestamp: number, elapsedSeconds: number): string {
  const micros = Math.round(timestamp * 1e6);
  const elapsedMicros = Math.round(elapsedSeconds * 1e6);
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  const seconds = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const fraction = micros % 1_000_000;
  const when = fraction === 0 ? seconds : `${seconds}.${String(fraction).padStart(6, '0')}`;
  return (
    `{"text": "${seconds}.${iso.slice(20, 23)} | EVENTS   | openvalidators.forward:run_step:271 - events\\n", ` +
    `"record": {"elapsed": {"repr": "${pythonTimedelta(elapsedMicros)}", "seconds": ${pyFloat(elapsedMicros / 1e6)}}, ` +
    `"exception": null, "extra": {${members}}, "file": {"name": "forward.py", "path": "openvalidators/forward.py"}, ` +
    `"function": "run_step", "level": {"icon": "\u{1F4DD}", "name": "EVENTS", "no": 38}, "line": 271, ` +
    `"message": "events", "module": "forward", "name": "openvalidators.forward", ` +
    `"process": {"id": 4242, "name": "MainProcess"}, "thread": {"id": 140000000000000, "name": "MainThread"}, ` +
    `"time": {"repr": "${when}+00:00", "timestamp": ${pyFloat(micros / 1e6)}}}}\n`
  );
}

/** The members wandb adds to every history row. */
export function historyExtras(step: number, runtime: number, start: number): string {
  return `"set_weights": null, "_step": ${step}, "_runtime": ${pyFloat(runtime)}, "_timestamp": ${pyFloat(start + runtime)}`;
}

/** Python's str(timedelta): "0:00:00.013650", "1 day, 2:03:04.000005", "3 days, 0:00:00". */
function pythonTimedelta(micros: number): string {
  const fraction = micros % 1_000_000;
  let seconds = Math.floor(micros / 1_000_000);
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  let text = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  if (fraction !== 0) text += `.${String(fraction).padStart(6, '0')}`;
  return days === 0 ? text : `${days} day${days === 1 ? '' : 's'}, ${text}`;
}
