import type { EntityManager } from 'typeorm';
import type { BudgetReservation } from '../entities';

/** Subtracts amounts from counters (never below zero): budget a denied action no longer uses. */
export async function giveBack(em: EntityManager, orgId: string, amounts: BudgetReservation[]): Promise<void> {
  if (amounts.length === 0) return;
  await em.query(
    `UPDATE counters c SET value = GREATEST(c.value - r.amount, 0)
       FROM jsonb_to_recordset($2::jsonb) AS r(key text, amount numeric)
      WHERE c."orgId" = $1 AND c.key = r.key`,
    [orgId, JSON.stringify(amounts)],
  );
}

/**
 * Gives back the budget a decision reserved while it waited for people; call it
 * in the transaction that ends the decision as DENY. Runs once: the
 * reservations are cleared as they are released. Returns what was released.
 */
export async function releaseReservations(em: EntityManager, orgId: string, decisionId: string): Promise<BudgetReservation[]> {
  const rows = (await em.query(
    `UPDATE decisions d SET reservations = NULL FROM decisions old
      WHERE d.id = $1 AND d."orgId" = $2 AND old.id = d.id AND old.reservations IS NOT NULL
      RETURNING old.reservations AS reservations`,
    [decisionId, orgId],
  )) as [{ reservations: BudgetReservation[] }[], number];
  const released = rows[0]?.[0]?.reservations ?? [];
  await giveBack(em, orgId, released);
  return released;
}
