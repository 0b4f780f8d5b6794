import type { ChatRequest } from '@app/providers';
import {
  appendTurns,
  lastUserText,
  parseTurns,
  selectWindow,
  type SessionTurn,
  withHistory,
} from './session-window';

const turn = (role: SessionTurn['role'], content: string): SessionTurn => ({ role, content });
// each turn below costs 4 + ceil(8 / 4) = 6 tokens
const turns = [
  turn('user', 'aaaaaaaa'),
  turn('assistant', 'bbbbbbbb'),
  turn('user', 'cccccccc'),
  turn('assistant', 'dddddddd'),
];

describe('session window', () => {
  it('keeps the newest turns that fit, in order, never opening with an orphan answer', () => {
    expect(selectWindow(turns, 24)).toEqual(turns);
    expect(selectWindow(turns, 12)).toEqual(turns.slice(2));
    expect(selectWindow(turns, 18)).toEqual(turns.slice(2)); // [b, c, d] would open with an answer
    expect(selectWindow(turns, 5)).toEqual([]);
  });
  it('inserts history after the leading system messages', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'new' },
      ],
    } as ChatRequest;
    expect(withHistory(body, turns.slice(0, 2)).messages.map((m) => m.content)).toEqual([
      'sys',
      'aaaaaaaa',
      'bbbbbbbb',
      'new',
    ]);
    expect(withHistory(body, [])).toBe(body);
  });
  it('remembers the last user text and bounds what is stored', () => {
    expect(
      lastUserText({
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      } as ChatRequest),
    ).toBe('hi');
    expect(appendTurns(turns, [turn('user', 'eeeeeeee')], 12)).toEqual([turns[3], turn('user', 'eeeeeeee')]);
    expect(parseTurns({ turns: [turn('user', 'x'), { role: 'tool', content: 'y' }, 5] })).toEqual([
      turn('user', 'x'),
    ]);
    expect(parseTurns('nope')).toEqual([]);
  });
});
