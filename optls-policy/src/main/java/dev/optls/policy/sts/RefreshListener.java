package dev.optls.policy.sts;

import java.lang.System.Logger.Level;
import java.time.Instant;

/**
 * Hears what a {@link RefreshSchedule} does. Called on the schedule's thread; must return quickly and not throw.
 * {@link #logging()} writes through {@link System.Logger} (the default).
 */
public interface RefreshListener {

    /**
     * A refresh that did not happen for a policy still in force ({@link StsRefresh#shouldAlert()}): RFC 8461 §5.1
     * says an administrator SHOULD hear of it.
     *
     * @param refresh what happened; the cached policy keeps applying until it expires
     * @param nextAttempt when the schedule tries that domain again
     */
    void alert(StsRefresh refresh, Instant nextAttempt);

    /** After each run. */
    default void finished(RefreshRun run) {}

    /** A run broke on something other than a peer (the cache store, usually); the schedule tries again later. */
    default void failed(RuntimeException error, Instant nextAttempt) {}

    /** Logs alerts as warnings, broken runs as errors and finished runs with refreshes at debug level. */
    static RefreshListener logging() {
        System.Logger log = System.getLogger(RefreshSchedule.class.getName());
        return new RefreshListener() {
            @Override
            public void alert(StsRefresh refresh, Instant nextAttempt) {
                log.log(
                        Level.WARNING,
                        "MTA-STS policy of {0} was not refreshed: {1}. The cached policy still applies until {2}; "
                                + "check the _mta-sts TXT record and https://mta-sts.{0}/.well-known/mta-sts.txt "
                                + "(or ask the domain''s administrators). Next attempt at {3}.",
                        refresh.policyDomain(),
                        refresh.reason(),
                        refresh.entry().expiresAt(),
                        nextAttempt);
            }

            @Override
            public void finished(RefreshRun run) {
                if (!run.refreshes().isEmpty() || run.deferred() > 0) {
                    log.log(
                            Level.DEBUG,
                            "MTA-STS refresh: {0} policies tried of {1} due, {2} backing off, {3} left for the "
                                    + "next run at {4}",
                            run.refreshes().size(),
                            run.due(),
                            run.backingOff(),
                            run.deferred(),
                            run.nextRun());
                }
            }

            @Override
            public void failed(RuntimeException error, Instant nextAttempt) {
                log.log(
                        Level.ERROR,
                        "MTA-STS refresh run failed; cached policies were not refreshed. Check the policy cache "
                                + "(database file or Redis server). Next attempt at " + nextAttempt,
                        error);
            }
        };
    }
}
