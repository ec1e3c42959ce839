// The playground: pick an operator, type the source as a marble string, set the options; the run is
// recorded in virtual time and drawn again at every keystroke, with the docs' SVG renderer.
import { Component, computed, inject, signal } from '@angular/core';
import { DomSanitizer, type SafeHtml } from '@angular/platform-browser';
import type { OverflowStrategy } from 'rxjs-backpressure';
import {
  DEFAULT_SETTINGS,
  OPERATORS,
  runPlayground,
  SETTINGS_OF,
  STRATEGIES,
  laneValues,
  type PlaygroundOperator,
  type PlaygroundSettings,
} from './playground';

type NumberSetting = 'capacity' | 'concurrency' | 'work' | 'interval' | 'tokensPerInterval' | 'queueCapacity';

const LABELS: Record<NumberSetting, string> = {
  capacity: 'capacity',
  concurrency: 'concurrency',
  work: 'frames per project call',
  interval: 'interval (frames)',
  tokensPerInterval: 'tokensPerInterval',
  queueCapacity: 'queueCapacity',
};

@Component({
  selector: 'app-playground-page',
  template: `
    <h1>Playground</h1>
    <p class="muted">
      The real operators, run in virtual time in your browser (<code>recordMarbles</code>) and drawn by the
      renderer of the docs' diagrams (<code>renderMarbleSvg</code>), both from
      <code>rxjs-backpressure/testing</code>. One character is one frame (1 ms); <code>-</code> is a frame
      with nothing, <code>(ab)</code> values in the same frame, <code>|</code> completion, <code>#</code> an
      error.
    </p>
    <div class="controls">
      <label>
        operator
        <select data-testid="operator" (change)="setOperator($any($event.target).value)">
          @for (op of operators; track op) {
            <option [value]="op" [selected]="op === settings().operator">{{ op }}</option>
          }
        </select>
      </label>
      <label class="source">
        source
        <input
          #source
          data-testid="source"
          spellcheck="false"
          autocomplete="off"
          [value]="settings().source"
          (input)="set('source', source.value)"
        />
      </label>
      @for (key of numberSettings(); track key) {
        <label>
          {{ labels[key] }}
          <input
            #n
            type="number"
            [attr.data-testid]="key"
            [min]="key === 'work' || key === 'queueCapacity' ? 0 : 1"
            [value]="settings()[key]"
            (input)="setNumber(key, n.value)"
          />
        </label>
      }
      @if (shows('overflow')) {
        <label>
          overflow
          <select data-testid="overflow" (change)="set('overflow', $any($event.target).value)">
            @for (s of strategies; track s) {
              <option [value]="s" [selected]="s === settings().overflow">{{ s }}</option>
            }
          </select>
        </label>
      }
      @if (shows('mode')) {
        <label>
          mode
          <select data-testid="mode" (change)="set('mode', $any($event.target).value)">
            <option value="shape" [selected]="settings().mode === 'shape'">shape</option>
            <option value="police" [selected]="settings().mode === 'police'">police</option>
          </select>
        </label>
      }
    </div>

    <pre data-testid="call"><code>source$.pipe({{ result().title }})</code></pre>
    @if (result().error; as error) {
      <p class="error" role="alert" data-testid="playground-error">{{ error }}</p>
    } @else {
      <div class="diagram" data-testid="diagram" [innerHTML]="svg()"></div>
      <p data-testid="output-text">output: {{ output().join(' ') || 'nothing' }}</p>
      <p data-testid="drops-text">dropped: {{ drops().join(' ') || 'nothing' }}</p>
    }
  `,
  styles: `
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem 1.25rem;
      align-items: end;
    }
    label {
      display: flex;
      flex-direction: column;
      font-size: 0.85rem;
      gap: 0.2rem;
    }
    input[type='number'] {
      width: 6rem;
    }
    .source input {
      font-family: ui-monospace, monospace;
      width: 18rem;
    }
    .diagram {
      overflow-x: auto;
      margin: 0.5rem 0;
    }
  `,
})
export class PlaygroundPage {
  private readonly sanitizer = inject(DomSanitizer);
  readonly operators = OPERATORS;
  readonly strategies = STRATEGIES;
  readonly labels = LABELS;
  readonly settings = signal<PlaygroundSettings>({ ...DEFAULT_SETTINGS });

  /** Recorded again whenever a setting changes: a run takes well under a millisecond. */
  readonly result = computed(() => runPlayground(this.settings()));
  /**
   * The SVG of the library's renderer, trusted as HTML: it escapes every label it draws, and
   * Angular's sanitizer would strip SVG elements.
   */
  readonly svg = computed<SafeHtml>(() => this.sanitizer.bypassSecurityTrustHtml(this.result().svg ?? ''));
  readonly output = computed(() => {
    const diagram = this.result().diagram;
    return diagram ? laneValues(diagram, 'output') : [];
  });
  readonly drops = computed(() =>
    (this.result().diagram?.drops ?? []).map((d) => `${d.label}@${d.frame}(${d.reason})`),
  );
  readonly numberSettings = computed(
    () => SETTINGS_OF[this.settings().operator].filter((k) => k in LABELS) as NumberSetting[],
  );

  shows(key: keyof PlaygroundSettings): boolean {
    return SETTINGS_OF[this.settings().operator].includes(key);
  }

  setOperator(operator: PlaygroundOperator): void {
    this.set('operator', operator);
  }

  set<K extends keyof PlaygroundSettings>(key: K, value: PlaygroundSettings[K]): void {
    this.settings.update((s) => ({ ...s, [key]: value }));
  }

  setNumber(key: NumberSetting, text: string): void {
    // An empty or half-typed field is passed on as NaN: the operator's own check explains the problem.
    this.set(key, text.trim() === '' ? Number.NaN : Number(text));
  }

  /** For tests and links: apply several settings at once. */
  apply(change: Partial<PlaygroundSettings> & { overflow?: OverflowStrategy }): void {
    this.settings.update((s) => ({ ...s, ...change }));
  }
}
