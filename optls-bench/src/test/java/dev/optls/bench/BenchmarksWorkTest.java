package dev.optls.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.smtp.SmtpReply;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Every benchmark does the work its name promises, repeatedly (state carried between invocations must
 * not break the next one). Functional checks only: nothing here measures or asserts time.
 */
class BenchmarksWorkTest {

    @Test
    void replyParsingParsesTheFixturesOverAndOver() {
        ReplyParsing bench = new ReplyParsing();
        bench.setUp();
        Blackhole bh = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        for (int i = 0; i < 1_000; i++) {
            SmtpReply reply = bench.smtpEhloReply();
            assertThat(reply.code()).isEqualTo(250);
            assertThat(reply.lines()).hasSize(10).contains("STARTTLS");
            assertThat(bench.smtpGreetingAndEhlo()).isInstanceOf(Step.WriteOutput.class);
            bench.imapCapability(bh);
        }
        bh.evaporate("Yes, I am Stephen Hawking, and know a thing or two about black holes.");
    }

    @Test
    void inMemoryNegotiationsUpgradeWithTheAdvertisedCapabilities() {
        InMemoryNegotiation bench = new InMemoryNegotiation();
        bench.setUp();
        for (int i = 0; i < 100; i++) {
            Result smtp = bench.smtp();
            assertThat(smtp.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(smtp.before().entries()).hasSize(9).contains("STARTTLS");
            assertThat(smtp.after().entries())
                    .hasSize(9)
                    .contains("AUTH PLAIN LOGIN")
                    .doesNotContain("STARTTLS");
            assertThat(bench.smtpClient())
                    .isInstanceOfSatisfying(
                            Step.Completed.class,
                            done -> assertThat(done.result().after()).isEqualTo(smtp.after()));
            assertThat(bench.smtpServer()).isInstanceOf(Step.NeedInput.class);
            assertThat(bench.imap().after().has("AUTH=PLAIN")).isTrue();
            assertThat(bench.pop3().after().has("USER")).isTrue();
        }
    }

    @Test
    void loopbackHandshakesCompleteOnBothSides() throws Exception {
        TlsHandshake bench = new TlsHandshake();
        TlsHandshake.BareServer bare = new TlsHandshake.BareServer();
        TlsHandshake.OptlsServer optls = new TlsHandshake.OptlsServer();
        bare.setUp();
        optls.setUp();
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(bench.bareTls(bare)).isEqualTo("TLS_AES_256_GCM_SHA384");
                assertThat(bench.optlsSmtpStartTls(optls)).isEqualTo("TLS_AES_256_GCM_SHA384");
            }
        } finally {
            bare.tearDown();
            optls.tearDown();
        }
        // Setup ran one connection each, the loop three; the server threads saw every handshake complete.
        assertThat(bare.handshakes.get()).isEqualTo(4);
        assertThat(optls.handshakes.get()).isEqualTo(4);
    }
}
