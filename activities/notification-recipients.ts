import type { NotificationRequest } from '../workflows/messages';

export interface Person {
  id: string;
  email: string;
  name: string;
  roles: string[];
}

export interface Recipients {
  /** Mail goes to each once, however many rules or channels named them. */
  people: { email: string; name: string; userId?: string }[];
  /** Channels Arbiter cannot reach here (a Slack channel while Slack is not configured), reported, not dropped silently. */
  undelivered: string[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Resolves notification channels to people. A channel is an email address, a
 * user id, `admins`, `approvers` or `email` (the admins); anything else (a Slack
 * channel such as `slack-trading-alerts`) is undelivered by email. A request
 * with no channels goes to the admins.
 */
export function resolveRecipients(requests: NotificationRequest[], users: Person[]): Recipients {
  const people = new Map<string, { email: string; name: string; userId?: string }>();
  const undelivered = new Set<string>();
  const add = (u: Person) => people.set(u.email.toLowerCase(), { email: u.email, name: u.name, userId: u.id });
  const admins = users.filter((u) => u.roles.includes('admin'));
  for (const r of requests) {
    const channels = r.channels.length ? r.channels : ['admins'];
    for (const raw of channels) {
      const c = raw.trim();
      if (c === 'admins' || c === 'email') admins.forEach(add);
      else if (c === 'approvers') users.filter((u) => u.roles.includes('approver')).forEach(add);
      else if (EMAIL.test(c)) {
        const known = users.find((u) => u.email.toLowerCase() === c.toLowerCase());
        if (known) add(known);
        else if (!people.has(c.toLowerCase())) people.set(c.toLowerCase(), { email: c, name: c.split('@')[0] });
      } else {
        const byId = users.find((u) => u.id === c);
        if (byId) add(byId);
        else undelivered.add(c);
      }
    }
  }
  return { people: [...people.values()], undelivered: [...undelivered] };
}
