// The region mask (issue 17): upload a mask, or paint one over the photo with a brush (size, soft edge,
// eraser, invert, clear), previewed as a tint over the image; sent with the job as the "mask" upload.
// The mask lives in an offscreen canvas as alpha (1 = stylise); it is exported as a grey PNG.
import { $, toast } from './dom.js';
import { picked } from './state.js';

/** Long side of the mask canvas (the photo's aspect; the server resizes the mask to the content). */
const MASK_SIDE = 512;
const TINT = 'rgba(217, 70, 239, 1)';

const canvas = () => $<HTMLCanvasElement>('mask-canvas');
let mask: HTMLCanvasElement | null = null;
let photo: HTMLImageElement | null = null;
let painted = false;
let photoUrl = '';

const ctxOf = (c: HTMLCanvasElement) => c.getContext('2d', { willReadFrequently: true })!;

/** Whether the job gets a mask (something painted or uploaded, and the switch on). */
export const maskEnabled = (): boolean => painted && $<HTMLInputElement>('mask-on').checked;

/** The mask mode the job asks for (optimisation mode): guided, or blend when its switch is on. */
export const maskMode = (): 'guided' | 'blend' => ($<HTMLInputElement>('mask-blend').checked ? 'blend' : 'guided');

/** The mask as a grey PNG (white = stylise), at the photo's aspect ratio. */
export async function maskBlob(): Promise<Blob | null> {
  if (!mask || !maskEnabled()) return null;
  const out = document.createElement('canvas');
  out.width = mask.width;
  out.height = mask.height;
  const c = ctxOf(out);
  c.fillStyle = '#000';
  c.fillRect(0, 0, out.width, out.height);
  c.drawImage(mask, 0, 0);
  return new Promise((resolve) => out.toBlob((b) => resolve(b), 'image/png'));
}

/** Redraws the preview: the photo, and the mask over it as a tint. */
function render() {
  const view = canvas();
  const c = ctxOf(view);
  c.clearRect(0, 0, view.width, view.height);
  if (photo) c.drawImage(photo, 0, 0, view.width, view.height);
  if (!mask) return;
  const tint = document.createElement('canvas');
  tint.width = mask.width;
  tint.height = mask.height;
  const t = ctxOf(tint);
  t.drawImage(mask, 0, 0);
  t.globalCompositeOperation = 'source-in';
  t.fillStyle = TINT;
  t.fillRect(0, 0, tint.width, tint.height);
  c.globalAlpha = 0.55;
  c.drawImage(tint, 0, 0, view.width, view.height);
  c.globalAlpha = 1;
  $('mask-status').textContent = painted ? 'tinted: stylised · clear: kept as the photo' : 'paint where to stylise, or upload a mask';
}

/** A new photo: the canvases take its aspect ratio, and the mask starts empty. */
function setPhoto(url: string) {
  if (url === photoUrl) return;
  photoUrl = url;
  const img = new Image();
  img.onload = () => {
    photo = img;
    const s = MASK_SIDE / Math.max(img.naturalWidth, img.naturalHeight);
    const w = Math.max(1, Math.round(img.naturalWidth * s));
    const h = Math.max(1, Math.round(img.naturalHeight * s));
    mask = document.createElement('canvas');
    mask.width = w;
    mask.height = h;
    const view = canvas();
    view.width = w;
    view.height = h;
    painted = false;
    $('mask-card').dataset.ready = 'true';
    render();
  };
  img.src = url;
}

/** One dab of the brush at (x, y) in mask pixels: a radial gradient, hard in its middle, soft at its rim. */
function dab(x: number, y: number) {
  if (!mask) return;
  const size = Number($<HTMLInputElement>('brush-size').value);
  const soft = Number($<HTMLInputElement>('brush-soft').value) / 100;
  const erase = $<HTMLInputElement>('brush-eraser').checked;
  const r = size / 2;
  const c = ctxOf(mask);
  const g = c.createRadialGradient(x, y, r * (1 - soft), x, y, r);
  g.addColorStop(0, 'rgba(255,255,255,1)');
  g.addColorStop(1, 'rgba(255,255,255,0)');
  c.globalCompositeOperation = erase ? 'destination-out' : 'source-over';
  c.fillStyle = g;
  c.beginPath();
  c.arc(x, y, r, 0, 2 * Math.PI);
  c.fill();
  c.globalCompositeOperation = 'source-over';
  painted = true;
}

function wirePainting() {
  const view = canvas();
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const b = view.getBoundingClientRect();
    return { x: ((e.clientX - b.left) / b.width) * view.width, y: ((e.clientY - b.top) / b.height) * view.height };
  };
  const stroke = (p: { x: number; y: number }) => {
    // dabs a quarter of a brush apart along the segment, so fast strokes stay continuous
    const step = Math.max(1, Number($<HTMLInputElement>('brush-size').value) / 4);
    const from = last ?? p;
    const n = Math.max(1, Math.ceil(Math.hypot(p.x - from.x, p.y - from.y) / step));
    for (let k = 1; k <= n; k++) dab(from.x + ((p.x - from.x) * k) / n, from.y + ((p.y - from.y) * k) / n);
    last = p;
    $<HTMLInputElement>('mask-on').checked = true;
    render();
  };
  view.addEventListener('pointerdown', (e) => {
    if (!mask) return;
    view.setPointerCapture(e.pointerId);
    last = null;
    stroke(at(e));
  });
  view.addEventListener('pointermove', (e) => {
    if (last) stroke(at(e));
  });
  const end = () => (last = null);
  view.addEventListener('pointerup', end);
  view.addEventListener('pointercancel', end);
}

/** An uploaded mask file: its alpha if it has transparency, else its luminance, fitted to the mask canvas. */
async function loadMaskFile(file: File) {
  if (!mask) {
    toast('Choose the photo first, then its mask', 'error');
    return;
  }
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(file);
  } catch {
    toast(`${file.name} is not an image`, 'error');
    return;
  }
  const a = bmp.width / bmp.height;
  const b = mask.width / mask.height;
  if (Math.abs(a - b) / b > 0.01) toast(`${file.name} is ${bmp.width}x${bmp.height}, not the photo's shape: it is stretched here, and the server will refuse it`, 'error');
  const tmp = document.createElement('canvas');
  tmp.width = mask.width;
  tmp.height = mask.height;
  const t = ctxOf(tmp);
  t.drawImage(bmp, 0, 0, tmp.width, tmp.height);
  const px = t.getImageData(0, 0, tmp.width, tmp.height);
  const d = px.data;
  let transparent = false;
  for (let k = 3; k < d.length; k += 4) if (d[k] < 255) transparent = true;
  for (let k = 0; k < d.length; k += 4) {
    const v = transparent ? d[k + 3] : Math.round(0.299 * d[k] + 0.587 * d[k + 1] + 0.114 * d[k + 2]);
    d[k] = d[k + 1] = d[k + 2] = 255;
    d[k + 3] = v;
  }
  ctxOf(mask).putImageData(px, 0, 0);
  painted = true;
  $<HTMLInputElement>('mask-on').checked = true;
  render();
}

/** Invert: alpha becomes 1 − alpha (xor with an opaque fill). */
function invert() {
  if (!mask) return;
  const c = ctxOf(mask);
  c.globalCompositeOperation = 'xor';
  c.fillStyle = '#fff';
  c.fillRect(0, 0, mask.width, mask.height);
  c.globalCompositeOperation = 'source-over';
  painted = true;
  render();
}

function clear() {
  if (!mask) return;
  ctxOf(mask).clearRect(0, 0, mask.width, mask.height);
  painted = false;
  $<HTMLInputElement>('mask-on').checked = false;
  render();
}

/** Wires the editor; `refresh` follows the chosen photo (call it when the content changes). */
export function wireMaskEditor() {
  wirePainting();
  $('mask-invert').addEventListener('click', invert);
  $('mask-clear').addEventListener('click', clear);
  $<HTMLInputElement>('file-mask').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void loadMaskFile(f);
  });
  for (const id of ['brush-size', 'brush-soft']) {
    const input = $<HTMLInputElement>(id);
    const show = () => ($(`${id}-out`).textContent = id === 'brush-size' ? `${input.value} px` : `${input.value}%`);
    input.addEventListener('input', show);
    show();
  }
}

/** Follows the content picker (pickers.ts calls it): a new photo resets the mask. */
export function refreshMaskPhoto() {
  const url = picked.content?.url;
  if (url) setPhoto(url);
}
