export {checkAccess, isLoopbackAddress, tokenMatches} from './access.js'
export {type BatcherOptions, DEFAULT_BATCHER_OPTIONS} from './batcher.js'
export {type IngestServer, type IngestServerOptions, type IngestStats, SERVICE_NAME, startIngestServer} from './server.js'
export {DEFAULT_LIMITS, type ValidationLimits} from './validate.js'
