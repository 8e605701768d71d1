/** The supervisor's clock is the shared one (src/lib/clock.ts). */
export { realClock, type Clock, type Timer } from '../../lib/clock.js';
