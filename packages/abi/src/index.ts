export {
  Errno,
  ERRNO_ALIASES,
  MAX_ERRNO,
  LinuxError,
  E,
  errorOf,
  isError,
  errnoName,
  errnoByName,
  allErrnos,
} from './errno.js';
