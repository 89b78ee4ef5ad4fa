/**
 * The log level of a test run: below WARN is off unless asked for, so that a failure is the first thing
 * one reads. `TEST_LOGS=1` keeps the functions' own level (INFO); a level asked for by name
 * (`LOG_LEVEL=DEBUG`, or Powertools' `POWERTOOLS_LOG_LEVEL`) is used as given.
 */
export function quietTestLogs(env: NodeJS.ProcessEnv): void {
  if (env.TEST_LOGS || env.LOG_LEVEL || env.POWERTOOLS_LOG_LEVEL) return;
  // Powertools reads LOG_LEVEL when its logger is built (functions/handlers/logger.ts, at module load).
  env.LOG_LEVEL = 'WARN';
}
