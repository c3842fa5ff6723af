// progress.ts — the training progress display: a cli-progress bar on a terminal, plain lines elsewhere.
import cliProgress from 'cli-progress';

export interface ProgressState {
  epoch: number;
  epochs: number;
  iter: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  imagesPerSecond?: number;
}

const FORMAT = 'epoch {epoch}/{epochs} {bar} iter {value}/{total} | loss {loss} | val acc {accuracy} | lr {lr} | {speed} img/s';

function fields(state: ProgressState): Record<string, string | number> {
  return {
    epoch: state.epoch,
    epochs: state.epochs,
    loss: state.loss === undefined ? '-' : state.loss.toFixed(4),
    accuracy: state.accuracy === undefined ? '-' : `${(state.accuracy * 100).toFixed(2)}%`,
    lr: state.lr === undefined ? '-' : state.lr.toPrecision(3),
    speed: state.imagesPerSecond === undefined ? '-' : Math.round(state.imagesPerSecond),
  };
}

/** Shows training progress; `line` prints a message above the bar (or as a plain line). */
export class TrainingProgress {
  private readonly bars: cliProgress.MultiBar | undefined;
  private readonly bar: cliProgress.SingleBar | undefined;
  private state: ProgressState;

  constructor(private readonly stream: NodeJS.WritableStream, total: number, epochs: number, interactive: boolean) {
    this.state = { epoch: 1, epochs, iter: 0 };
    if (interactive) {
      // A MultiBar of one bar, because only MultiBar can print lines above the bar.
      this.bars = new cliProgress.MultiBar(
        { format: FORMAT, stream: stream as NodeJS.WriteStream, hideCursor: true, barsize: 20, fps: 5 },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.bars.create(total, 0, fields(this.state));
    }
  }

  update(change: Partial<ProgressState>): void {
    this.state = { ...this.state, ...change };
    this.bar?.update(this.state.iter, fields(this.state));
  }

  /** A message that stays: above the bar on a terminal, a plain line otherwise. */
  line(text: string): void {
    if (this.bars) this.bars.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  /** The current state as one plain line (for non-interactive output). */
  summary(): string {
    const shown = fields(this.state);
    return `epoch ${shown.epoch}/${shown.epochs} iter ${this.state.iter} loss ${shown.loss} val acc ${shown.accuracy} lr ${shown.lr} ${shown.speed} img/s`;
  }

  stop(): void {
    this.bars?.stop();
  }
}
