export * from './chart.js'
export * from './csv.js'
export * from './table.js'
export * from './units.js'
