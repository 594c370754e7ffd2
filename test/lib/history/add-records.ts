/** A writer process for the concurrency test: adds N records of one run id to a file history. */
import {FileHistory} from '../../../src/lib/history/store/file.js'
import {record} from './records.js'

const [dir, worker, count] = process.argv.slice(2)
const history = new FileHistory(dir)
await Promise.all(Array.from({length: Number(count)}, (_, i) => history.add(record(100 + Number(worker) * 10 + i, {runId: 'run-multi'}))))
