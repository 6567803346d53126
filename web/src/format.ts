// Text formatting of the page: numbers (10ⁿ, compact scientific), durations, "5 min ago", and the
// display titles of image and network names.

const SUP: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

export const sup = (e: number) =>
  String(e)
    .split('')
    .map((c) => SUP[c] ?? c)
    .join('');

/** 1234 -> "1.2 × 10³" */
export function pow10(x: number): string {
  if (!(x > 0) || !Number.isFinite(x)) return String(x);
  let e = Math.floor(Math.log10(x));
  let m = x / 10 ** e;
  if (Number(m.toFixed(1)) >= 10) {
    m /= 10;
    e += 1;
  }
  return `${m.toFixed(1)} × 10${sup(e)}`;
}

/** Compact numbers for the chart and the loss terms: 172110 -> "1.72e5", 0.5 -> "0.5". */
export function sci(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 0.01 && a < 1000) return Number(x.toPrecision(3)).toString();
  const e = Math.floor(Math.log10(a));
  return `${Number((x / 10 ** e).toPrecision(3))}e${e}`;
}

export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function ago(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return '';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

const TITLES: Record<string, string> = {
  starry_night: 'The Starry Night',
  the_scream: 'The Scream',
  great_wave: 'The Great Wave',
  udnie: 'Udnie',
  turner_shipwreck: 'The Shipwreck',
  chelsea: 'Chelsea the cat',
};

export function stem(name: string | undefined): string {
  if (!name) return '?';
  return name.replace(/\.[a-z0-9]+$/i, '');
}

export function title(name: string | undefined): string {
  const s = stem(name);
  if (TITLES[s]) return TITLES[s];
  const t = s.replace(/[_-]+/g, ' ').trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}
