/** What every error the scheduler and the `corral` CLI print starts with (commander's too). */
export const ERROR_PREFIX = "corral: ";
