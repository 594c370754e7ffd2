/**
 * The history of runs and the comparison of runs. Recording (recordRun) never
 * throws into the command that ran the load; reading a history and comparing
 * runs raise errors that say what to do.
 */
export {asResultDocument, parseResultText, type ResultDoc} from './document.js'
export {parseTags, type RecordSummary, type RunRecord} from './record/record.js'
export {recordFile, recordRun, type RecordOutcome, type RecordRunOptions} from './record/recorder.js'
export {DEFAULT_HISTORY_DIR, describeLocation, historyLocation, type HistoryLocation, openHistory} from './store/open.js'
export {type Baseline, type HistoryStore} from './store/types.js'
