import { In, IsNull } from 'typeorm';
import type { DataSource } from 'typeorm';
import { User } from '../entities';
import type { Principal } from './auth';
import { DomainError } from './errors';
import type { SlackGateway } from './slack';

/** A person as the approval core sees them. */
export interface Person {
  id: string;
  orgId: string;
  email: string;
  name: string;
  roles: string[];
  slackUserId: string | null;
  disabled: boolean;
  /** Out of office: who stands in, and when. */
  delegate: { id: string; from: Date | null; until: Date | null } | null;
}

/** Whom to ask for one approver: the approver, or their delegate while they are away. */
export interface Recipient {
  approverId: string;
  person: Person;
  /** Set when `person` stands in for `approverId`. */
  onBehalfOf?: string;
}

export const toPerson = (u: User): Person => ({
  id: u.id,
  orgId: u.orgId,
  email: u.email,
  name: u.name,
  roles: u.roles,
  slackUserId: u.slackUserId,
  disabled: !!u.disabledAt,
  delegate: u.delegateId ? { id: u.delegateId, from: u.delegateFrom, until: u.delegateUntil } : null,
});

export const isAdmin = (p: Person | null | undefined): boolean => !!p?.roles.includes('admin');

/** Whether `p`'s delegation is in force at `now` (a period with an open end runs on). */
export function delegationActive(p: Person, now: Date): boolean {
  const d = p.delegate;
  if (!d) return false;
  if (d.from && now < d.from) return false;
  if (d.until && now >= d.until) return false;
  return true;
}

/**
 * The one resolver of people for the approval core: by id, by API key, by Slack
 * user, their Slack identity (asked of Slack once by email, then remembered), and
 * who stands in for whom. Delegation is one step deep: a delegate's own absence is
 * not followed further, so an approval never wanders.
 */
export class People {
  constructor(
    private readonly ds: DataSource,
    private readonly slack: SlackGateway | null,
  ) {}

  async get(orgId: string, id: string): Promise<Person | null> {
    const u = await this.ds.getRepository(User).findOne({ where: { orgId, id } });
    return u ? toPerson(u) : null;
  }

  /** People by id (disabled ones included, for names in histories). */
  async many(orgId: string, ids: string[]): Promise<Person[]> {
    const unique = [...new Set(ids)].filter((x) => !x.startsWith('key:'));
    if (!unique.length) return [];
    return (await this.ds.getRepository(User).find({ where: { orgId, id: In(unique) } })).map(toPerson);
  }

  /** The organization's people who have not been removed. */
  async active(orgId: string): Promise<Person[]> {
    return (await this.ds.getRepository(User).find({ where: { orgId, disabledAt: IsNull() } })).map(toPerson);
  }

  /** The one person of the organization with this Slack id (unique by index). */
  async bySlackUser(orgId: string, slackUserId: string): Promise<Person | null> {
    const u = await this.ds.getRepository(User).findOne({ where: { orgId, slackUserId } });
    return u ? toPerson(u) : null;
  }

  /** Refuses a Slack id another person of the organization already has. */
  async checkSlackId(orgId: string, slackUserId: string | null | undefined, personId?: string): Promise<void> {
    if (!slackUserId) return;
    const holder = await this.ds.getRepository(User).findOne({ where: { orgId, slackUserId } });
    if (holder && holder.id !== personId) throw new DomainError('SLACK_ID_TAKEN', `slack_user_id: ${slackUserId} belongs to another person (${holder.id})`, 'slack_user_id');
  }

  /** The person an API key belongs to, if it belongs to one. */
  async forPrincipal(principal: Principal): Promise<Person | null> {
    return principal.userId ? this.get(principal.orgId, principal.userId) : null;
  }

  /** Display names of people by id, for messages (ids stand for themselves when unknown). */
  async names(orgId: string, ids: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const p of await this.many(orgId, ids)) out[p.id] = p.name;
    return out;
  }

  /**
   * Whom to ask for each approver at `now`: the approver, or their active delegate.
   * The proposer is never asked, nor anyone's delegate for their own action, and nobody
   * removed is asked; an approver whose delegate cannot be asked is asked themselves.
   */
  async recipients(orgId: string, approverIds: string[], proposerId: string, now: Date): Promise<Recipient[]> {
    // The proposer can never decide on its own action: nobody is asked in its place either.
    const approvers = (await this.many(orgId, approverIds)).filter((p) => !p.disabled && p.id !== proposerId);
    const delegateIds = approvers.filter((p) => delegationActive(p, now)).map((p) => p.delegate!.id);
    const delegates = new Map((await this.many(orgId, delegateIds)).map((p) => [p.id, p]));
    return approvers.map((a) => {
      const d = delegationActive(a, now) ? delegates.get(a.delegate!.id) : undefined;
      if (d && !d.disabled && d.id !== proposerId && d.id !== a.id) return { approverId: a.id, person: d, onBehalfOf: a.id };
      return { approverId: a.id, person: a };
    });
  }

  /**
   * Checks a delegation and returns the columns to write: the delegate must be another,
   * active person of the organization, and the period must end after it starts and not
   * lie wholly in the past. A null delegate clears it.
   */
  async checkDelegation(personId: string, orgId: string, d: { delegateId: string | null; from: Date | null; until: Date | null }): Promise<Pick<User, 'delegateId' | 'delegateFrom' | 'delegateUntil'>> {
    if (!d.delegateId) return { delegateId: null, delegateFrom: null, delegateUntil: null };
    if (d.delegateId === personId) throw new DomainError('DELEGATE_INVALID', 'delegate_id: a person cannot be their own delegate', 'delegate_id');
    const delegate = await this.get(orgId, d.delegateId);
    if (!delegate || delegate.disabled) throw new DomainError('DELEGATE_INVALID', `delegate_id: no active person ${d.delegateId} in this organization`, 'delegate_id');
    if (d.from && d.until && d.until <= d.from) throw new DomainError('DELEGATE_INVALID', 'delegate_until: must be after delegate_from', 'delegate_until');
    if (d.until && d.until <= new Date()) throw new DomainError('DELEGATE_INVALID', 'delegate_until: must be in the future', 'delegate_until');
    return { delegateId: delegate.id, delegateFrom: d.from, delegateUntil: d.until };
  }

  /** People whose delegation to `personId` is in force at `now`. */
  async delegatorsOf(orgId: string, personId: string, now: Date): Promise<Person[]> {
    const rows = await this.ds.getRepository(User).find({ where: { orgId, delegateId: personId } });
    return rows.map(toPerson).filter((p) => !p.disabled && delegationActive(p, now));
  }

  /**
   * The person's Slack user id: the one an admin set, else `users.lookupByEmail`,
   * asked once and remembered (found or not). Null when Slack is off or has nobody.
   */
  async slackIdOf(p: Person): Promise<string | null> {
    if (p.slackUserId) return p.slackUserId;
    if (!this.slack) return null;
    const row = await this.ds.getRepository(User).findOne({ where: { id: p.id, orgId: p.orgId } });
    if (!row || row.slackUserId) return row?.slackUserId ?? null;
    if (row.slackLookedUpAt) return null;
    const found = await this.slack.lookupByEmail(p.email);
    // An id someone else already holds is not taken over: a click must map to one person.
    const taken = found ? await this.ds.getRepository(User).exists({ where: { orgId: p.orgId, slackUserId: found } }) : false;
    const usable = found && !taken ? found : null;
    await this.ds.getRepository(User).update({ id: p.id, orgId: p.orgId }, { slackLookedUpAt: new Date(), ...(usable ? { slackUserId: usable } : {}) });
    return usable;
  }
}
