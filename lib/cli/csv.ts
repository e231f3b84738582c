// CSV files for `train --csv` and `predict`: a header row naming the columns, then one row per time
// step, every selected cell a finite number (csv-parse does the parsing).
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

export interface Table {
  columns: string[];
  /** rows[t][c]: every column as read (only the selected columns need be numbers). */
  rows: string[][];
}

export async function readTable(file: string): Promise<Table> {
  const text = await readFile(file, 'utf8');
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a CSV file (${(e as Error).message})`);
  }
  if (records.length < 2) throw new Error(`${file}: needs a header row and at least one data row`);
  return { columns: records[0], rows: records.slice(1) };
}

/** The named columns as numbers, [row][column]; a name missing or a cell not a number is an error naming it. */
export function numericColumns(table: Table, names: readonly string[], file: string): number[][] {
  const idx = names.map((n) => {
    const i = table.columns.indexOf(n);
    if (i < 0) throw new Error(`${file}: no column '${n}' (columns: ${table.columns.join(', ')})`);
    return i;
  });
  return table.rows.map((row, r) => idx.map((i, k) => {
    const v = Number(row[i]);
    if (row[i] === undefined || row[i] === '' || !Number.isFinite(v)) {
      throw new Error(`${file}: row ${r + 2}, column '${names[k]}': ${JSON.stringify(row[i] ?? '')} is not a number`);
    }
    return v;
  }));
}

/** A CSV line (numbers and names never need quoting here, except names with commas or quotes). */
export function csvLine(cells: readonly (string | number)[]): string {
  return cells.map((c) => (typeof c === 'string' && /[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : String(c))).join(',');
}
