import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { quoteString } from '../../engine/session.js';
import type { Table } from '../api-types.js';
import { downloadName } from '../download-name.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';

const FORMATS = {
  csv: { copy: 'FORMAT csv, HEADER true', type: 'text/csv; charset=utf-8' },
  jsonl: { copy: 'FORMAT json', type: 'application/x-ndjson' },
  parquet: { copy: 'FORMAT parquet, COMPRESSION zstd', type: 'application/vnd.apache.parquet' },
} as const;

/**
 * GET /api/export?run=ID[&format=csv|jsonl|parquet][&table=events|uid_events] — the run as a
 * dataset: every row of the table in row order, with the file it came from. DuckDB writes it to a
 * temporary file that is streamed and then removed.
 */
export const exportRoute: Route = {
  path: '/api/export',
  async handle(c) {
    const query = new Query(c.url, ['run', 'format', 'table']);
    const format = query.oneOf('format', ['csv', 'jsonl', 'parquet'] as const, 'csv');
    const table = query.oneOf<Table>('table', ['events', 'uid_events'], 'events');
    const { handle, pending } = runOrPending(c, query, { complete: true });
    if (pending) return pending;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runlens-export-'));
    const file = path.join(dir, `export.${format}`);
    try {
      await handle.use(
        async (run) => {
          const names =
            run.ingest.files.map((f) => `(${f.fileId}, ${quoteString(f.name)})`).join(', ') || '(-1, NULL)';
          const order = table === 'uid_events' ? 't.ord, t.pos' : 't.ord';
          await run.session.run(`COPY (
          SELECT n.file, t.* EXCLUDE (file_id) FROM ${table} t
          LEFT JOIN (VALUES ${names}) AS n(file_id, file) ON t.file_id = n.file_id
          ORDER BY ${order}
        ) TO ${quoteString(file)} (${FORMATS[format].copy})`);
        },
        { heavy: true, complete: true },
      );
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const stream = fs.createReadStream(file);
    stream.on('close', () => void rm(dir, { recursive: true, force: true }));
    const size = fs.statSync(file).size;
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
      headers: {
        'content-type': FORMATS[format].type,
        'content-length': String(size),
        'content-disposition': `attachment; filename="${downloadName(handle.id, table, format)}"`,
        'cache-control': 'no-store',
      },
    });
  },
};
