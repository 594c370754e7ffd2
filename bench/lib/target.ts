/** A figure's target, as the benches print it: "target ≥ 0.45: met" or "target ≥ 0.45: not met". */
export function target(bound: string, met: boolean): string {
  return `target ${bound}: ${met ? 'met' : 'not met'}`
}
