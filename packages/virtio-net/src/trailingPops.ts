/**
 * How many of the chains at avail positions `positions[from..to)` (in pop order) form the
 * trailing run popped last, one after the other: positions nextAvail-1, nextAvail-2, ... from the
 * end. Those chains can be given back by moving nextAvail back over them; a chain before the run
 * cannot (moving back over the chains popped after it would pop them again).
 */
export function trailingPops(nextAvail: number, positions: ArrayLike<number>, from: number, to: number): number {
  let expect = (nextAvail - 1) & 0xffff;
  let n = 0;
  for (let i = to - 1; i >= from; i--) {
    if (positions[i] !== expect) break;
    expect = (expect - 1) & 0xffff;
    n++;
  }
  return n;
}
