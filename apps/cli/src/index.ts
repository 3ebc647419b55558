export { main, type MainIo } from './main.js';
export {
  parseArgs,
  parseVolume,
  mergeEnv,
  MAIN_HELP,
  DO_HELP,
  type Command,
  type DoCommand,
} from './args.js';
