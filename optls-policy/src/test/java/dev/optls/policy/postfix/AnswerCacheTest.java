package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AnswerCacheTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final AtomicInteger calls = new AtomicInteger();

    private AnswerCache cache(int max) {
        return new AnswerCache(
                key -> {
                    calls.incrementAndGet();
                    return key.startsWith("temp") ? SocketmapReply.temp("dns down") : SocketmapReply.ok("dane");
                },
                Duration.ofSeconds(60),
                Duration.ofSeconds(5),
                max,
                now::get);
    }

    @Test
    void positiveAnswersLiveLongerThanNegativeOnes() {
        AnswerCache cache = cache(10);
        assertThat(cache.get("a.test").wire()).isEqualTo("OK dane");
        assertThat(cache.get("temp.test").wire()).isEqualTo("TEMP dns down");
        assertThat(calls).hasValue(2);

        now.addAndGet(Duration.ofSeconds(5).toNanos());
        cache.get("a.test");
        cache.get("temp.test");
        assertThat(calls).hasValue(3); // temp expired, a did not

        now.addAndGet(Duration.ofSeconds(55).toNanos());
        cache.get("a.test");
        assertThat(calls).hasValue(4);
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.lookups()).isEqualTo(4);
    }

    @Test
    void theLeastRecentlyUsedDomainGoesFirst() {
        AnswerCache cache = cache(2);
        cache.get("a.test");
        cache.get("b.test");
        cache.get("a.test"); // a is now more recent than b
        cache.get("c.test"); // b goes
        assertThat(cache.size()).isEqualTo(2);
        int before = calls.get();
        cache.get("a.test");
        cache.get("c.test");
        assertThat(calls).hasValue(before);
        cache.get("b.test");
        assertThat(calls).hasValue(before + 1);
    }

    @Test
    void concurrentMissesForOneDomainMakeOneLookup() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AnswerCache cache = new AnswerCache(
                key -> {
                    calls.incrementAndGet();
                    entered.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return SocketmapReply.ok("secure match=mx.test");
                },
                Duration.ofSeconds(60),
                Duration.ofSeconds(5),
                100,
                System::nanoTime);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<SocketmapReply>> answers = new ArrayList<>();
            answers.add(pool.submit(() -> cache.get("slow.test")));
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 7; i++) {
                answers.add(pool.submit(() -> cache.get("slow.test")));
            }
            // Let the waiters reach the in-flight lookup (they cannot overtake it: it holds the answer).
            Thread.sleep(100);
            release.countDown();
            for (Future<SocketmapReply> f : answers) {
                assertThat(f.get(10, TimeUnit.SECONDS).wire()).isEqualTo("OK secure match=mx.test");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(calls).hasValue(1);
        assertThat(cache.lookups()).isEqualTo(1);
    }

    @Test
    void aThrowingLookupIsATempAnswerNotAnException() {
        AnswerCache cache = new AnswerCache(
                key -> {
                    throw new IllegalStateException("boom");
                },
                Duration.ofSeconds(60),
                Duration.ofSeconds(5),
                10,
                now::get);
        assertThat(cache.get("x.test").status()).isEqualTo(SocketmapReply.Status.TEMP);
        assertThat(cache.get("x.test").text()).contains("boom");
    }

    @Test
    void zeroEntriesMeansNoCaching() {
        AnswerCache cache = cache(0);
        cache.get("a.test");
        cache.get("a.test");
        assertThat(calls).hasValue(2);
        assertThat(cache.size()).isZero();
    }
}
