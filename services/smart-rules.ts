import type { DataSource } from 'typeorm';
import { ConditionError } from '../engine/conditions';
import { compileRule } from '../engine/rules';
import { SmartRule } from '../entities';
import type { AuditLog } from './audit-log';
import { AppError, notFound } from './errors';
import { newId } from './ids';
import type { Actor } from './policy-service';
import { toRuleDef } from './policy-store';
import type { PolicyStore } from './policy-store';

/** The fields of a smart rule a caller sets. */
export type SmartRuleFields = Pick<SmartRule, 'name' | 'description' | 'priority' | 'isActive' | 'conditions' | 'action' | 'approvalLevel' | 'notifications'>;

/**
 * An organization's smart rules: compiled before they are saved (a bad rule is a 400 naming its
 * path and operator, never a failure at decision time), each change audited in its own
 * transaction and announced to the policy snapshot, so the next proposal sees it.
 */
export class SmartRuleService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
    private readonly store: PolicyStore,
  ) {}

  async list(orgId: string, filter: { isActive?: boolean }, page: { limit: number; offset: number }): Promise<{ rules: SmartRule[]; total: number }> {
    const where = { orgId, ...(filter.isActive !== undefined ? { isActive: filter.isActive } : {}) };
    const [rules, total] = await this.ds.getRepository(SmartRule).findAndCount({ where, order: { priority: 'DESC', createdAt: 'ASC' }, take: page.limit, skip: page.offset });
    return { rules, total };
  }

  async get(orgId: string, id: string): Promise<SmartRule> {
    const row = await this.ds.getRepository(SmartRule).findOne({ where: { id, orgId } });
    if (!row) throw notFound('smart rule', id);
    return row;
  }

  /** `audited` is what the record says was asked for (the request as given). */
  async create(orgId: string, actor: Actor, createdBy: string, fields: SmartRuleFields, audited: Record<string, unknown>): Promise<SmartRule> {
    const row = this.ds.getRepository(SmartRule).create({ ...fields, id: newId('rule'), orgId, createdBy });
    assertCompiles(row);
    await this.audit.append(orgId, [{ ...actor, entityType: 'smart_rule', entityId: row.id, action: 'create', data: audited }], async (em) => {
      await em.insert(SmartRule, row);
      await this.store.notifyChange(em, orgId);
    });
    return this.get(orgId, row.id);
  }

  /** Applies `change` to the rule; it returns what the record says (the change and the rule before it). */
  async update(orgId: string, actor: Actor, id: string, change: (row: SmartRule) => Record<string, unknown>): Promise<SmartRule> {
    const row = await this.get(orgId, id);
    const audited = change(row);
    assertCompiles(row);
    await this.audit.append(orgId, [{ ...actor, entityType: 'smart_rule', entityId: row.id, action: 'update', data: audited }], async (em) => {
      await em.save(SmartRule, row);
      await this.store.notifyChange(em, orgId);
    });
    return this.get(orgId, row.id);
  }

  async remove(orgId: string, actor: Actor, id: string): Promise<SmartRule> {
    const row = await this.get(orgId, id);
    await this.audit.append(orgId, [{ ...actor, entityType: 'smart_rule', entityId: row.id, action: 'delete', data: { name: row.name } }], async (em) => {
      await em.delete(SmartRule, { id: row.id, orgId });
      await this.store.notifyChange(em, orgId);
    });
    return row;
  }
}

function assertCompiles(rule: SmartRule): void {
  try {
    compileRule(toRuleDef(rule));
  } catch (e) {
    if (e instanceof ConditionError) {
      throw new AppError(400, 'RULE_INVALID', e.message, e.path ? `conditions.${e.path}` : 'conditions', { rule: e.rule, path: e.path, operator: e.operator });
    }
    throw e;
  }
}
