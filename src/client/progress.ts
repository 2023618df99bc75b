// Progress for long operations: a spinner with the current step on a terminal's stderr, nothing elsewhere
// (so piped output and logs stay clean). Messages always go through `note`.

export interface Progress {
  /** Shows `label` as the operation in progress (terminal only). */
  step(label: string): void;
  /** Prints a line (always), keeping the spinner below it. */
  note(text: string): void;
  /** Removes the spinner. */
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `stream` gets the spinner (when it is a terminal); notes go to `writeNote` (default: the same stream). */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, enabled = !!stream.isTTY, writeNote?: (text: string) => void): Progress {
  let label: string | undefined;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (enabled && label !== undefined) stream.write('\r\x1b[2K');
  };
  const draw = () => {
    if (enabled && label !== undefined) stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
  };
  return {
    step(next) {
      if (!enabled) return;
      label = next;
      draw();
      if (!timer) {
        timer = setInterval(draw, 100);
        timer.unref();
      }
    },
    note(text) {
      clear();
      if (writeNote) writeNote(text);
      else stream.write(text + '\n');
      draw();
    },
    stop() {
      clear();
      label = undefined;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A Progress that prints nothing but notes (to the given writer). */
export function quietProgress(write: (text: string) => void = () => {}): Progress {
  return { step() {}, note: write, stop() {} };
}
