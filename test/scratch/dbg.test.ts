import { it } from 'vitest';
import path from 'node:path';
import { probeFile } from '../../src/formats/probe.js';
import { declaredColumns, outputColumns } from '../../src/engine/normalize-sql.js';
import { FORMATS } from '../helpers/temp.js';
it('dbg', async () => {
  const p = await probeFile({ path: path.join(FORMATS, 'filetao/events.json'), gzip: false, container: 'jsonl' });
  console.log(p.layout, p.sampled, p.loguru, p.endsWithNewline, [...(p.shape.fields?.keys() ?? [])]);
  console.log(declaredColumns({ event: p.shape, loguru: p.loguru })?.text);
  console.log(outputColumns({ event: p.shape, loguru: p.loguru }).map((c) => `${c.path} ${c.role} ${c.stored} ${c.firstKind} ${c.expr.text}`).join('\n'));
});
