// Writes docs/CONFIGURATION.md from the configuration schema (src/config.ts#configurationReference).
import { writeFileSync } from 'node:fs';
import { configurationReference } from '../src/config.ts';

writeFileSync('docs/CONFIGURATION.md', configurationReference());
process.stdout.write('wrote docs/CONFIGURATION.md\n');
