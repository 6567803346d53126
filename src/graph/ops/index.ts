// The op table: every family's entries assembled into OPS (checked to name each OpName exactly once),
// plus the op-name sets the tests key their cases by.
import type { OpName } from '../types.js';
import type { OpDef } from './common.js';
import { CONV_OPS } from './conv.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { LAYOUT_OPS } from './layout.js';
import { LOSS_OPS } from './loss.js';
import { NORM_OPS } from './norm.js';
import { POOL_OPS } from './pool.js';

export type { Arr, OnnxEmitter, OnnxLowering, OpDef } from './common.js';
export type { OpName } from '../types.js';
export { flipTransposeWeight } from './conv.js';

/** Each family in its own table (the tests check that no op is in two). */
export const OP_FAMILIES = {
  conv: CONV_OPS,
  pool: POOL_OPS,
  elementwise: ELEMENTWISE_OPS,
  norm: NORM_OPS,
  layout: LAYOUT_OPS,
  loss: LOSS_OPS,
} as const;

const TABLE = {
  ...CONV_OPS,
  ...POOL_OPS,
  ...ELEMENTWISE_OPS,
  ...NORM_OPS,
  ...LAYOUT_OPS,
  ...LOSS_OPS,
} satisfies Record<OpName, OpDef>;

export const OPS: Record<OpName, OpDef> = TABLE;

/** The ops with a backward rule of their own (read from the table's entries at compile time). */
export type DifferentiableOpName = { [K in OpName]: (typeof TABLE)[K] extends { backward: unknown } ? K : never }[OpName];
/** The ops without one: each computes some other op's gradient. */
export type GradientOnlyOpName = Exclude<OpName, DifferentiableOpName>;

export function opDef(op: OpName): OpDef {
  return OPS[op] as OpDef;
}
