package dev.optls.core.ldap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Whatever a peer sends, in whatever chunks, both sides give only defined steps and never throw. */
class LdapPropertiesTest {
    private static final Limits SMALL = new Limits(64, 4, 512, 0, 5);

    /** Bytes cut into pieces. */
    record Input(List<byte[]> chunks) {}

    @Provide
    Arbitrary<Input> randomBytes() {
        return Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(64)
                .list()
                .ofMaxSize(12)
                .map(Input::new);
    }

    /** Real PDUs, fragments of them and junk, concatenated and cut at random places. */
    @Provide
    Arbitrary<Input> ldapPieces() {
        Arbitrary<byte[]> token = Arbitraries.of(
                Pdus.START_TLS_REQUEST,
                Pdus.OPENLDAP_SUCCESS,
                Pdus.NAMED_SUCCESS,
                Pdus.APACHEDS_SUCCESS,
                Pdus.AD_SUCCESS,
                Pdus.PROTOCOL_ERROR,
                Pdus.UNBIND_2,
                LdapMessage.noticeOfDisconnection(2, "bye"),
                Pdus.extendedResponse(0, 0, "", "1.2.3"),
                Pdus.extendedResponse(2, 0, "", null),
                Pdus.bindSimple(2, "cn=a", "p"),
                Pdus.bindSimple(3, "", ""),
                Pdus.bindSasl(4, "EXTERNAL"),
                Pdus.search(5, ""),
                Pdus.hex("30 80"),
                Pdus.hex("30 84 7f ff ff ff"),
                Pdus.hex("30 03 02 01"),
                Pdus.hex("30 02 30 00"),
                Pdus.hex("30 0a 30 08 30 06 30 04 30 02 30 00"),
                Pdus.hex("ff"),
                Pdus.hex("30"));
        Arbitrary<byte[]> stream = token.list().ofMaxSize(12).map(list -> Pdus.concat(list.toArray(new byte[0][])));
        return Chunks.split(stream, 400).map(Input::new);
    }

    @Property(tries = 300)
    void clientSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll SecurityLevel level) {
        drive(new LdapClient(new ClientOptions(level, "localhost", false, SMALL)), input);
    }

    @Property(tries = 500)
    void clientSurvivesLdapShapedInput(@ForAll("ldapPieces") Input input, @ForAll SecurityLevel level) {
        drive(new LdapClient(new ClientOptions(level, "localhost", false, SMALL)), input);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required) {
        drive(new LdapServer(serverOptions(required, false)), input);
    }

    @Property(tries = 500)
    void serverSurvivesLdapShapedInput(
            @ForAll("ldapPieces") Input input, @ForAll boolean required, @ForAll boolean active) {
        drive(new LdapServer(serverOptions(required, active)), input);
    }

    @Property
    void integersRoundTrip(@ForAll @IntRange(min = 0) int value) {
        byte[] encoded = Ber.Writer.integer(Ber.INTEGER, value);
        Ber.Element e = new Ber.Reader(encoded).next(Ber.INTEGER, "INTEGER");
        assertThat(e.nonNegativeInt()).isEqualTo(value);
        // X.690 §8.3.2: minimal, sign bit clear.
        assertThat(e.source()[e.start()] & 0x80).isZero();
        assertThat(e.length()).isBetween(1, 4);
    }

    @Property
    void lengthsRoundTrip(@ForAll @Size(max = 70_000) byte[] value) {
        byte[] encoded = Ber.Writer.element(Ber.OCTET_STRING, value);
        Ber.Element e = new Ber.Reader(encoded).next(Ber.OCTET_STRING, "OCTET STRING");
        assertThat(e.value()).isEqualTo(value);
        assertThat(Ber.elementLength(bytes(encoded), encoded.length)).isEqualTo(encoded.length);
    }

    private static Ber.Bytes bytes(byte[] b) {
        return new Ber.Bytes() {
            @Override
            public int size() {
                return b.length;
            }

            @Override
            public byte get(int i) {
                return b[i];
            }
        };
    }

    private static ServerOptions serverOptions(boolean required, boolean active) {
        ServerOptions o = ServerOptions.offering("ldap.example", Capabilities.NONE)
                .withTlsRequired(required)
                .withLimits(SMALL);
        return active ? o.afterUpgrade() : o;
    }

    /** Feeds the chunks and acts on every step as an adapter would; fails on anything unexpected. */
    private static void drive(Negotiation n, Input input) {
        ByteBuffer out = ByteBuffer.allocate(16);
        int next = 0;
        for (int guard = 0; guard < 100_000; guard++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                assertThat(w.pending()).isPositive();
                out.clear();
                assertThat(n.drainOutput(out)).isPositive();
            } else if (step instanceof Step.NeedInput) {
                if (next < input.chunks().size()) {
                    n.receive(ByteBuffer.wrap(input.chunks().get(next++)));
                } else if (next == input.chunks().size()) {
                    next++;
                    n.receiveEof();
                } else {
                    throw new AssertionError("NeedInput after EOF");
                }
            } else if (step instanceof Step.BeginHandshake b) {
                if (n instanceof LdapClient) {
                    assertThat(b.tlsInput().remaining()).isZero();
                }
                next = input.chunks().size();
                n.handshakeCompleted(Replay.FAKE_TLS);
            } else if (step instanceof Step.Deliver d) {
                assertThat(d.command().verb()).isNotBlank();
                assertThat(d.command().tag()).isNotEqualTo("0");
                n.handOver();
                assertThat(n.poll()).isInstanceOf(Step.Completed.class);
                return;
            } else if (step instanceof Step.Completed
                    || step instanceof Step.Failed
                    || step instanceof Step.UpgradeUnavailable) {
                assertThat(n.poll()).isEqualTo(step);
                return;
            } else {
                throw new AssertionError("undefined step " + step);
            }
        }
        throw new AssertionError("no progress");
    }
}
