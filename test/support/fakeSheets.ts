/**
 * Google Sheets API v4, as much of it as n8n's Google Sheets node uses to append a row: the
 * spreadsheet's sheets, reading a range, writing a range, appending, and adding rows. Routes for
 * the fake Google server (n8n reaches it as sheets.googleapis.com); every call needs a token the
 * fake issued with the spreadsheets scope, as Google does.
 *
 * Ranges are A1 notation as the node sends them: `Sheet1`, `Sheet1!1:1`, `Sheet1!A:Z`,
 * `'My sheet'!A2:D5`. Cells are strings (the node writes with USER_ENTERED; we store the text).
 */
import type { Route, RouteRequest, RouteResponse } from './fakeGoogle';

export const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';

export interface FakeSheet {
	sheetId: number;
	title: string;
	rows: string[][];
	rowCount: number;
}

export interface FakeSheets {
	routes: Route[];
	/** Adds a spreadsheet with one sheet and the given rows (the first is usually the header). */
	addSpreadsheet(id: string, title: string, rows: string[][]): void;
	/** The rows of a sheet, trailing empty rows dropped. */
	rows(spreadsheetId: string, sheetTitle?: string): string[][];
}

interface ParsedRange {
	title: string;
	/** 1-based, inclusive; undefined: open. */
	startRow?: number;
	endRow?: number;
	/** 0-based column indexes, inclusive. */
	startCol: number;
	endCol?: number;
}

function columnIndex(letters: string): number {
	let n = 0;
	for (const c of letters.toUpperCase()) n = n * 26 + (c.charCodeAt(0) - 64);
	return n - 1;
}

function parseRange(range: string): ParsedRange {
	const bang = range.lastIndexOf('!');
	const rawTitle = bang < 0 ? range : range.slice(0, bang);
	const title = rawTitle.replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
	if (bang < 0) return { title, startCol: 0 };
	const cells = /^([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?$/.exec(range.slice(bang + 1));
	if (!cells) throw new Error(`fake Sheets: cannot read the range ${range}`);
	const [, c1, r1, c2, r2] = cells;
	const hasEnd = range.slice(bang + 1).includes(':');
	return {
		title,
		...(r1 && { startRow: Number(r1) }),
		...(hasEnd ? r2 && { endRow: Number(r2) } : r1 && { endRow: Number(r1) }),
		startCol: c1 ? columnIndex(c1) : 0,
		...(hasEnd ? c2 && { endCol: columnIndex(c2) } : c1 && { endCol: columnIndex(c1) }),
	};
}

const trimRows = (rows: string[][]) => {
	const copy = rows.map((r) => [...r]);
	while (copy.length > 0 && copy[copy.length - 1].every((c) => c === '')) copy.pop();
	return copy;
};

export function createFakeSheets(): FakeSheets {
	const books = new Map<string, { title: string; sheets: FakeSheet[] }>();
	const error = (status: number, message: string, code = status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT'): RouteResponse => ({
		status,
		body: { error: { code: status, message, status: code } },
	});
	const guard = (req: RouteRequest): RouteResponse | undefined =>
		req.token?.scopes.includes(SHEETS_SCOPE) ? undefined : error(403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
	const sheetOf = (spreadsheetId: string, title: string) => books.get(spreadsheetId)?.sheets.find((s) => s.title === title);

	const write = (sheet: FakeSheet, at: ParsedRange, values: unknown[][]) => {
		const startRow = at.startRow ?? 1;
		values.forEach((row, i) => {
			const target = startRow - 1 + i;
			while (sheet.rows.length <= target) sheet.rows.push([]);
			row.forEach((cell, j) => {
				const col = at.startCol + j;
				while (sheet.rows[target].length <= col) sheet.rows[target].push('');
				sheet.rows[target][col] = cell === null || cell === undefined ? '' : String(cell);
			});
		});
		sheet.rowCount = Math.max(sheet.rowCount, sheet.rows.length);
		const cols = Math.max(0, ...values.map((r) => r.length));
		return { updatedRows: values.length, updatedColumns: cols, updatedCells: values.reduce((n, r) => n + r.length, 0) };
	};

	const read = (sheet: FakeSheet, at: ParsedRange): string[][] => {
		const rows = trimRows(sheet.rows);
		const from = (at.startRow ?? 1) - 1;
		const to = at.endRow ?? rows.length;
		return trimRows(rows.slice(from, to).map((r) => {
			const cells = r.slice(at.startCol, at.endCol === undefined ? undefined : at.endCol + 1);
			while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
			return cells;
		}));
	};

	const body = (req: RouteRequest) => (req.body.length > 0 ? (JSON.parse(req.body.toString('utf8')) as Record<string, unknown>) : {});

	/** A route on one range of one sheet: the scope checked, the range read, the sheet found (else 400). */
	const onRange =
		(handle: (req: RouteRequest, spreadsheetId: string, range: string, at: ParsedRange, sheet: FakeSheet) => RouteResponse) =>
		(req: RouteRequest): RouteResponse => {
			const refused = guard(req);
			if (refused) return refused;
			const [spreadsheetId, range] = req.params;
			const at = parseRange(range);
			const sheet = sheetOf(spreadsheetId, at.title);
			if (!sheet) return error(400, `Unable to parse range: ${range}`);
			return handle(req, spreadsheetId, range, at, sheet);
		};

	const routes: Route[] = [
		{
			name: 'sheets.values.append',
			httpMethod: 'POST',
			pattern: /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+):append$/,
			auth: true,
			handle: onRange((req, spreadsheetId, range, at, sheet) => {
				const values = (body(req).values ?? []) as unknown[][];
				const next = trimRows(sheet.rows).length + 1;
				const done = write(sheet, { ...at, startRow: next }, values);
				return { status: 200, body: { spreadsheetId, tableRange: range, updates: { spreadsheetId, updatedRange: `${at.title}!A${next}`, ...done } } };
			}),
		},
		{
			name: 'sheets.values.batchUpdate',
			httpMethod: 'POST',
			pattern: /^\/v4\/spreadsheets\/([^/]+)\/values:batchUpdate$/,
			auth: true,
			handle: (req) => {
				const refused = guard(req);
				if (refused) return refused;
				const [spreadsheetId] = req.params;
				const data = (body(req).data ?? []) as Array<{ range: string; values: unknown[][] }>;
				for (const entry of data) {
					const at = parseRange(entry.range);
					const sheet = sheetOf(spreadsheetId, at.title);
					if (!sheet) return error(400, `Unable to parse range: ${entry.range}`);
					write(sheet, at, entry.values);
				}
				return { status: 200, body: { spreadsheetId, totalUpdatedRows: data.reduce((n, d) => n + d.values.length, 0) } };
			},
		},
		{
			name: 'sheets.values.get',
			httpMethod: 'GET',
			pattern: /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+)$/,
			auth: true,
			handle: onRange((_req, _spreadsheetId, range, at, sheet) => {
				const values = read(sheet, at);
				return { status: 200, body: { range, majorDimension: 'ROWS', ...(values.length > 0 && { values }) } };
			}),
		},
		{
			name: 'sheets.values.update',
			httpMethod: 'PUT',
			pattern: /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+)$/,
			auth: true,
			handle: onRange((req, spreadsheetId, range, at, sheet) => {
				const done = write(sheet, at, (body(req).values ?? []) as unknown[][]);
				return { status: 200, body: { spreadsheetId, updatedRange: range, ...done } };
			}),
		},
		{
			name: 'sheets.batchUpdate',
			httpMethod: 'POST',
			pattern: /^\/v4\/spreadsheets\/([^/:]+):batchUpdate$/,
			auth: true,
			handle: (req) => {
				const refused = guard(req);
				if (refused) return refused;
				const [spreadsheetId] = req.params;
				const book = books.get(spreadsheetId);
				if (!book) return error(404, 'Requested entity was not found.');
				const requests = (body(req).requests ?? []) as Array<{ appendDimension?: { sheetId: number; dimension: string; length: number } }>;
				for (const r of requests) {
					const sheet = book.sheets.find((s) => s.sheetId === r.appendDimension?.sheetId);
					if (sheet && r.appendDimension?.dimension === 'ROWS') sheet.rowCount += r.appendDimension.length;
				}
				return { status: 200, body: { spreadsheetId, replies: requests.map(() => ({})) } };
			},
		},
		{
			name: 'sheets.get',
			httpMethod: 'GET',
			pattern: /^\/v4\/spreadsheets\/([^/:]+)$/,
			auth: true,
			handle: (req) => {
				const refused = guard(req);
				if (refused) return refused;
				const [spreadsheetId] = req.params;
				const book = books.get(spreadsheetId);
				if (!book) return error(404, 'Requested entity was not found.');
				return {
					status: 200,
					body: {
						spreadsheetId,
						properties: { title: book.title },
						sheets: book.sheets.map((s, index) => ({
							properties: { sheetId: s.sheetId, title: s.title, index, sheetType: 'GRID', gridProperties: { rowCount: s.rowCount, columnCount: 26 } },
						})),
					},
				};
			},
		},
	];

	return {
		routes,
		addSpreadsheet: (id, title, rows) => {
			books.set(id, { title, sheets: [{ sheetId: 0, title: 'Sheet1', rows: rows.map((r) => [...r]), rowCount: Math.max(1000, rows.length) }] });
		},
		rows: (spreadsheetId, sheetTitle = 'Sheet1') => trimRows(sheetOf(spreadsheetId, sheetTitle)?.rows ?? []),
	};
}
