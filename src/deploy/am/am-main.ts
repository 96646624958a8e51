/** Where the Application Master's main lives (the same engine install is expected on every node, like SPARK_HOME). */
import { fileURLToPath } from 'node:url';

export const AM_MAIN = fileURLToPath(new URL('./application-master.js', import.meta.url));
