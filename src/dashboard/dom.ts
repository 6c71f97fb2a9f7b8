/** A small typed DOM builder: no framework, no inline styles (the CSP forbids them). */
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "class") el.className = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`dashboard: no element ${sel}`);
  return el;
};

const NY = "America/New_York";
/** New York wall time of an ISO string or epoch ms ("12-02 10:31:00"). */
export function nyTime(t: string | number | null | undefined, withDate = true): string {
  if (t === null || t === undefined) return "—";
  const d = new Date(t);
  if (!Number.isFinite(d.getTime())) return "—";
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: NY, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).formatToParts(d);
  const g = (k: string) => parts.find((p) => p.type === k)?.value ?? "";
  return withDate ? `${g("month")}-${g("day")} ${g("hour")}:${g("minute")}:${g("second")}` : `${g("hour")}:${g("minute")}`;
}

export const usd = (x: number | null | undefined, signed = false): string =>
  x === null || x === undefined ? "—" : `${signed && x > 0 ? "+" : ""}${x.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export const num = (x: number | null | undefined): string => (x === null || x === undefined ? "—" : x.toLocaleString("en-US"));

/** Run fn at most once per `ms`, with a trailing call so the last request is never lost. */
export function throttle(fn: () => Promise<void> | void, ms: number): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  const run = async () => {
    timer = null;
    if (running) return void (timer = setTimeout(run, ms));
    running = true;
    last = Date.now();
    try {
      await fn();
    } finally {
      running = false;
    }
  };
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(run, wait);
  };
}
