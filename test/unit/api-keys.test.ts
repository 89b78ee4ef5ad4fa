import { API_KEY_PATTERN, keyPrefix, keyStatus, keyWorks, newApiKey } from '../../functions/core/api-keys.js';

describe('API keys', () => {
  it('makes keys of the accepted shape, 32 random characters after the mode', () => {
    const test = newApiKey('test');
    const live = newApiKey('live');
    expect(test).toMatch(/^sk_test_[A-Za-z0-9]{32}$/);
    expect(live).toMatch(/^sk_live_[A-Za-z0-9]{32}$/);
    expect(API_KEY_PATTERN.test(test) && API_KEY_PATTERN.test(live)).toBe(true);
    expect(newApiKey('test')).not.toBe(test);
  });

  it('shows the mode and four characters, never more', () => {
    expect(keyPrefix('sk_test_Ab3dEFGHIJKLMNOPQRSTUVWXYZ012345')).toBe('sk_test_Ab3d');
    expect(keyPrefix('sk_live_Zz9yEFGHIJKLMNOPQRSTUVWXYZ012345')).toBe('sk_live_Zz9y');
  });

  it('works until the end of its overlap, exclusive, and never once revoked', () => {
    const now = new Date('2026-12-02T10:00:00.000Z');
    expect(keyStatus({}, now)).toBe('active');
    expect(keyStatus({ validUntil: '2026-12-02T10:00:00.001Z' }, now)).toBe('expiring');
    expect(keyStatus({ validUntil: '2026-12-02T10:00:00.000Z' }, now)).toBe('expired');
    expect(
      keyStatus({ validUntil: '2026-12-03T00:00:00.000Z', revokedAt: '2026-12-01T00:00:00.000Z' }, now),
    ).toBe('revoked');
    expect(keyWorks({ validUntil: '2026-12-02T10:00:00.001Z' }, now)).toBe(true);
    expect(keyWorks({ validUntil: '2026-12-02T09:59:59.999Z' }, now)).toBe(false);
    expect(keyWorks({ revokedAt: '2026-12-02T09:00:00.000Z' }, now)).toBe(false);
  });
});
