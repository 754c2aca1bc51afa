import express, { Router } from 'express';
import type { Request, Response } from 'express';
import { DomainError } from '../../services/errors';
import type { Person } from '../../services/people';
import { verifySlackSignature } from '../../services/slack';
import type { Approval } from '../../entities';
import type { ApiDeps } from '../deps';

/** Slack waits 3 seconds for the answer; a vote still running after this is answered and finished behind it. */
const ANSWER_WITHIN_MS = 2500;
const DENY_MODAL = 'approval.deny_reason';

interface SlackUser {
  id?: string;
}
interface InteractionPayload {
  type?: string;
  user?: SlackUser;
  trigger_id?: string;
  channel?: { id?: string };
  container?: { channel_id?: string };
  actions?: { action_id?: string; value?: string }[];
  view?: { callback_id?: string; private_metadata?: string; state?: { values?: Record<string, Record<string, { value?: string | null }>> } };
}

/** The deny modal: a reason, required, recorded in the audit with the vote. */
function denyModal(approvalId: string, channel: string | undefined, title: string): object {
  return {
    type: 'modal',
    callback_id: DENY_MODAL,
    // The message's channel rides along, so a refusal that comes after the modal closed can still be told there.
    private_metadata: JSON.stringify({ approvalId, channel }),
    title: { type: 'plain_text', text: 'Deny this action' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'plain_text', text: title.slice(0, 2900) } },
      { type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Why do you deny it?' }, element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 2000 } },
    ],
  };
}

/**
 * Slack interactivity: `POST /slack/interactions`. The v0 signature over the raw body is
 * checked before anything is parsed (a forged, stale or altered request gets 401 and
 * changes nothing). A click counts only as the clicking Slack user's own vote, through
 * the approval core; a refusal is told to that user alone (an ephemeral message, or the
 * modal's error). Slack gets its answer within 3 seconds.
 */
export function slackRouter(deps: ApiDeps): Router {
  const r = Router();
  const { approvals, people, slack, config } = deps;

  deps.docs.add({
    method: 'post', path: '/slack/interactions', summary: "Slack interactivity (Approve / Deny buttons, the deny modal); Slack's v0 signature is required", tags: ['Approvals'], scope: 'public', contentType: 'application/x-www-form-urlencoded',
    responses: { 200: { description: 'Handled (a refusal is told to the user in Slack)' }, 400: { description: 'No interaction payload' }, 401: { description: 'Signature missing, stale or wrong' }, 503: { description: 'Slack is not configured' } },
  });

  const tell = async (p: InteractionPayload, text: string): Promise<void> => {
    const channel = p.channel?.id ?? p.container?.channel_id;
    if (!slack || !channel || !p.user?.id) return;
    await slack.ephemeral(channel, p.user.id, text).catch((e: unknown) => deps.log.warn({ err: e }, 'slack ephemeral failed'));
  };

  /** The approval a button names and the person the clicking Slack user is in its organization, or why not. */
  const resolve = async (approvalId: string | undefined, slackUserId: string | undefined): Promise<{ approval: Approval; person: Person } | { refusal: string }> => {
    const approval = approvalId ? await approvals.find(approvalId) : null;
    if (!approval) return { refusal: 'This approval no longer exists.' };
    const person = slackUserId ? await people.bySlackUser(approval.orgId, slackUserId) : null;
    if (!person) return { refusal: 'You are not an approver in Arbiter: only the person this message was sent to can decide it.' };
    return { approval, person };
  };

  /** A vote that answers Slack in time: refusals are told to the user; a slow vote finishes behind the answer. */
  const voteInTime = async (p: InteractionPayload, run: () => Promise<unknown>): Promise<string | null> => {
    const voting = run().then(
      () => null,
      (e: unknown) => {
        if (e instanceof DomainError) return `Not counted: ${e.message}.`;
        deps.log.error({ err: e }, 'slack vote failed');
        return 'Arbiter could not record your decision just now. Try again in a minute, or use the link in the message.';
      },
    );
    const late = new Promise<'late'>((ok) => setTimeout(() => ok('late'), ANSWER_WITHIN_MS).unref());
    const first = await Promise.race([voting, late]);
    if (first === 'late') {
      void voting.then((refusal) => (refusal ? tell(p, refusal) : undefined));
      return null;
    }
    return first;
  };

  r.post('/slack/interactions', express.raw({ type: () => true, limit: '256kb' }), async (req: Request, res: Response) => {
    const secret = config.SLACK_SIGNING_SECRET;
    if (!secret || !slack) throw new DomainError('SLACK_NOT_CONFIGURED', 'Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
    const check = verifySlackSignature(secret, { timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature'), body: raw }, Math.floor(Date.now() / 1000));
    if (!check.ok) {
      res.status(401).json({ error: { code: check.problem, message: 'the Slack signature is missing, stale or wrong', field: 'X-Slack-Signature' }, request_id: res.locals.requestId });
      return;
    }
    let p: InteractionPayload;
    try {
      p = JSON.parse(new URLSearchParams(raw.toString('utf8')).get('payload') ?? '') as InteractionPayload;
      if (typeof p !== 'object' || p === null) throw new Error('not an object');
    } catch {
      res.status(400).json({ error: { code: 'VALIDATION_FAILED', message: 'payload: a JSON interaction payload is required', field: 'payload' }, request_id: res.locals.requestId });
      return;
    }

    if (p.type === 'block_actions') {
      const action = p.actions?.[0];
      if (action?.action_id !== 'approval.approve' && action?.action_id !== 'approval.deny') {
        res.status(200).end(); // the page link button, or something not ours: nothing to do
        return;
      }
      const who = await resolve(action.value, p.user?.id);
      if ('refusal' in who) {
        await tell(p, who.refusal);
        res.status(200).end();
        return;
      }
      if (action.action_id === 'approval.deny') {
        // The reason comes from the modal; its submission is the vote.
        if (!p.trigger_id) throw new DomainError('VALIDATION_FAILED', 'trigger_id: required to open the deny modal', 'trigger_id');
        const title = `${(who.approval.summary as { capability?: string }).capability ?? 'this action'} by ${(who.approval.summary as { actorId?: string }).actorId ?? 'an agent'}`;
        await slack.openModal(p.trigger_id, denyModal(who.approval.id, p.channel?.id ?? p.container?.channel_id, title));
        res.status(200).end();
        return;
      }
      const refusal = await voteInTime(p, () => approvals.vote(who.approval, { kind: 'person', person: who.person }, { choice: 'approve', via: 'slack' }));
      if (refusal) await tell(p, refusal);
      res.status(200).end();
      return;
    }

    if (p.type === 'view_submission' && p.view?.callback_id === DENY_MODAL) {
      let approvalId: string | undefined;
      try {
        const meta = JSON.parse(p.view.private_metadata ?? '{}') as { approvalId?: string; channel?: string };
        approvalId = meta.approvalId;
        if (typeof meta.channel === 'string') p.channel = { id: meta.channel };
      } catch {
        approvalId = undefined;
      }
      const reason = p.view.state?.values?.reason?.reason?.value?.trim() ?? '';
      const errors = (text: string) => res.status(200).json({ response_action: 'errors', errors: { reason: text.slice(0, 300) } });
      if (!reason) return errors('Say why you deny it.');
      const who = await resolve(approvalId, p.user?.id);
      if ('refusal' in who) return errors(who.refusal);
      const refusal = await voteInTime(p, () => approvals.vote(who.approval, { kind: 'person', person: who.person }, { choice: 'deny', comment: reason, via: 'slack' }));
      if (refusal) return errors(refusal);
      res.status(200).end();
      return;
    }

    res.status(200).end();
  });

  return r;
}
