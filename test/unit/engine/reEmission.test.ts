/**
 * Emitting a crashed execution's emails again on the engine's clock: a Gmail failure is tried
 * RETRIES times RETRY_MS apart, then handed to the shell to report, and taken off the lists.
 */
import { noteHandedOver, type EmissionLedger } from '../../../nodes/GmailPushTrigger/engine/emissionLedger';
import type { Emission } from '../../../nodes/GmailPushTrigger/engine/engineDeps';
import { ReEmission, RETRIES, RETRY_MS } from '../../../nodes/GmailPushTrigger/engine/reEmission';
import { scopeRevoked, unavailable } from '../../support/memoryGmail';
import { memoryEngine, type MemoryEngine } from './engineHarness';

async function delivered(count: number): Promise<{ m: MemoryEngine; again: ReEmission; gaveUp: Array<{ emission: Emission; message: string }>; ledger: EmissionLedger; emission: Emission }> {
	const m = memoryEngine();
	await m.engine.ensureWatch('wf:node');
	for (let i = 0; i < count; i++) m.gmail.deliver();
	await m.engine.handle(m.notification());
	const [emission] = m.emissions;
	const ledger: EmissionLedger = { outcomes: new Map() };
	noteHandedOver(ledger, emission.at);
	const gaveUp: Array<{ emission: Emission; message: string }> = [];
	const logger = { debug: () => undefined, info: () => undefined, warn: (message: string) => void m.lines.push({ level: 'warn', message }), error: (message: string) => void m.lines.push({ level: 'error', message }) };
	const again = new ReEmission({ engine: () => m.engine, ledger, clock: m.clock, logger, onGaveUp: (e, _reason, message) => void gaveUp.push({ emission: e, message }) });
	return { m, again, gaveUp, ledger, emission };
}

const retryWarnings = (m: MemoryEngine) => m.lines.filter((l) => l.level === 'warn' && /again failed, next try in 30 s/.test(l.message));

describe('emitting a crashed execution again', () => {
	it(`tries ${RETRIES} times ${RETRY_MS / 1000} s apart while Gmail refuses, then reports once and settles`, async () => {
		const { m, again, gaveUp, ledger, emission } = await delivered(2);
		// A lasting failure: the engine backs off, so every try fails at once without asking Google.
		m.gmail.failNext('listHistory', scopeRevoked());
		m.gmail.deliver();
		await expect(m.engine.sync()).rejects.toThrow(/insufficient/);
		const asked = m.gmail.calls.length;

		again.emitAgain(emission, 'crashed');
		await m.clock.advance(0);
		expect(retryWarnings(m)).toHaveLength(1);
		await m.clock.advance(RETRY_MS - 1);
		expect(retryWarnings(m)).toHaveLength(1);
		await m.clock.advance(1);
		expect(retryWarnings(m)).toHaveLength(2);
		await m.clock.advance((RETRIES - 2) * RETRY_MS - 1);
		expect(gaveUp).toEqual([]);
		await m.clock.advance(1);

		expect(retryWarnings(m)).toHaveLength(RETRIES - 1);
		expect(gaveUp).toEqual([{ emission, message: expect.stringMatching(/insufficient authentication scopes/) }]);
		expect(m.state.unsettled).toBeUndefined();
		expect(ledger.outcomes.get(emission.at!)).toBe('settled');
		expect(m.gmail.calls.length).toBe(asked);
		expect(m.clock.pending).toBe(0);
	});

	it('goes out once Gmail answers again, in the emission\'s place, with nothing reported', async () => {
		const { m, again, gaveUp, emission } = await delivered(1);
		m.gmail.failNext('getMessage', unavailable(), 2);
		again.emitAgain(emission, 'crashed');
		await m.clock.advance(2 * RETRY_MS);
		expect(retryWarnings(m)).toHaveLength(2);
		expect(m.batches).toEqual([emission.events.map((e) => e.ref.id), emission.events.map((e) => e.ref.id)]);
		// It takes the crashed one's place in the state's list of unsettled emissions.
		expect(m.emissions[1].number).toBe(2);
		expect(m.state.unsettled?.map((u) => u.at)).toEqual([m.emissions[1].at]);
		expect(gaveUp).toEqual([]);
		await m.clock.advance(RETRIES * RETRY_MS);
		expect(m.batches).toHaveLength(2);
	});
});
