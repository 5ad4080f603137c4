/**
 * The Cilium LB-map capacity check before the Service-scale phase: when
 * `bpf-lb-map-max` cannot hold the largest step, a person approves or
 * declines raising it (the `approveLbMapFix` Update; `AUTO_FIX_LB_MAP`
 * decides without asking). Approved: patch cilium-config, restart Cilium,
 * read the value back. Not applied: the large-scale results are marked
 * untrustworthy, with the reason.
 */
import { condition, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RunOptions } from '../config';
import { lbEntriesNeeded, lbEntriesPerService } from '../domain/plan';
import type { LbMapCheck, RunResults } from '../domain/results';
import { approveLbMapFixUpdate, type LbMapDecision } from '../shared';
import { clusterActivities, failureReason, longActivities, settle } from './common';
import type { RunProgress } from './progress';
import { restoreLbMap, type Compensations } from './undo';

export class LbMapApproval {
  private decision?: LbMapDecision;
  constructor(private readonly progress: RunProgress) {
    setHandler(
      approveLbMapFixUpdate,
      (d) => {
        this.decision = d;
        return {
          accepted: true,
          message: d.approve ? 'LB-map fix approved: Cilium will be patched and restarted' : 'LB-map fix declined: large-scale results will be marked untrustworthy',
        };
      },
      {
        validator: (d) => {
          if (!this.progress.state.pendingApproval) throw new Error('no LB-map fix is waiting for a decision in this run');
          if (!d || typeof d.approve !== 'boolean') throw new Error('decision must be { approve: true|false }');
        },
      },
    );
  }

  /** Check the LB map against the plan's largest step; ask, apply, or mark the results untrusted. */
  async check(o: RunOptions, results: RunResults, undo: Compensations): Promise<LbMapCheck> {
    const progress = this.progress;
    const act = clusterActivities();
    const current = await act.getLbMapMax();
    const needed = lbEntriesNeeded(o);
    if (needed <= current) return { current, needed, decision: 'not-needed', applied: false };
    const proposed = needed * 2;
    let decision: LbMapCheck['decision'];
    let decidedBy: string | undefined;
    if (o.autoFixLbMap) {
      decision = 'auto';
      decidedBy = 'AUTO_FIX_LB_MAP=true';
    } else {
      const id = workflowInfo().workflowId;
      progress.state.pendingApproval = { current, needed, proposed };
      progress.doing({ waitingFor: `approval: raise bpf-lb-map-max ${current} -> ${proposed} and restart Cilium (netbench approve|decline ${id})` });
      progress.upsert({ phase: 'awaiting-approval' });
      const asked = Date.now();
      const answered = await condition(() => this.decision !== undefined, o.lbMapApprovalTimeout * 1000, {
        summary: `waiting for approveLbMapFix (up to ${o.lbMapApprovalTimeout} s)`,
      });
      progress.spent({ pause: (Date.now() - asked) / 1000 }); // a person deciding is not orchestration
      progress.state.pendingApproval = undefined;
      progress.state.waitingFor = undefined;
      progress.upsert({ phase: 'service-scale' });
      decision = !answered ? 'timed-out' : this.decision!.approve ? 'approved' : 'declined';
      decidedBy = answered ? this.decision!.by : undefined;
    }
    const check: LbMapCheck = { current, needed, proposed, decision, applied: false, ...(decidedBy ? { decidedBy } : {}) };
    if (decision === 'auto' || decision === 'approved') {
      try {
        const patchedFrom = await clusterActivities(`patch cilium-config bpf-lb-map-max=${proposed}`).patchLbMapMax({ value: proposed });
        if (patched('netbench-restore-lbmap')) undo.add('lb-map', restoreLbMap(patchedFrom?.previous));
        progress.doing({ waitingFor: 'rollout of ds/cilium and deploy/cilium-operator' });
        await longActivities('rollout restart ds/cilium, deploy/cilium-operator; wait Ready (300 s)').rolloutRestartCilium({ timeoutSec: 300 });
        progress.spent({ pause: await settle(o, 10, 'after Cilium restart') });
        check.after = await act.getLbMapMax();
        check.applied = true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        check.decision = 'failed';
        check.reason = failureReason(err);
      }
    }
    if (!check.applied) {
      const fits = Math.floor(current / lbEntriesPerService(o.svcEndpoints));
      results.scale.trusted = false;
      results.scale.untrustedReason =
        `Cilium's LB map holds ${current} entries but ${needed} are needed; the fix was ${check.decision}` +
        (check.reason ? ` (${check.reason})` : '') +
        `: results above ~${fits} Services may show map overflow (forwarding failures), not datapath scaling`;
      progress.state.trusted = false;
      progress.upsert({ trusted: false });
    }
    progress.doing({ waitingFor: undefined });
    return check;
  }
}
