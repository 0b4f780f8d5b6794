import { detectBirthDates } from './dob.detector';
import { found } from './spec-helpers';

describe('detectBirthDates', () => {
  it.each([
    ['Date of birth: 1985-03-12', '1985-03-12'],
    ['DOB 12/03/1985', '12/03/1985'],
    ['born on March 12, 1985 in Ohio', 'March 12, 1985'],
    ['born 4 July 1976', '4 July 1976'],
    ['Geburtsdatum: 24.12.1990', '24.12.1990'],
    ['date_of_birth=1993-02-14', '1993-02-14'],
    ['Born 21st of September 1988', '21st of September 1988'],
  ])('finds the date in %p', (text, date) => expect(found(detectBirthDates, text)).toEqual([date]));

  it('needs a birth cue, and only the date nearest to it counts', () => {
    expect(found(detectBirthDates, 'released 2021-03-04')).toEqual([]);
    expect(found(detectBirthDates, 'Birthdate 1958-06-01; deceased 2020-01-15.')).toEqual(['1958-06-01']);
  });

  it('rejects impossible dates', () => {
    expect(found(detectBirthDates, 'DOB 1985-02-30')).toEqual([]);
    expect(found(detectBirthDates, 'born 31/31/1985')).toEqual([]);
    expect(found(detectBirthDates, 'born 1850-01-01')).toEqual([]);
  });
});
