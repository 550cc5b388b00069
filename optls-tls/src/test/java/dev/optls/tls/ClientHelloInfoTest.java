package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ClientHelloInfoTest {
    /** A real ClientHello from the JDK's engine: its body, after the record and handshake headers. */
    private static ByteBuffer clientHello(String sni, String... alpn) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine("ignored", 1);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        if (sni != null) {
            p.setServerNames(List.of(new SNIHostName(sni)));
        }
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        assertThat(out.get(0)).as("handshake record").isEqualTo((byte) 22);
        assertThat(out.get(5)).as("ClientHello").isEqualTo((byte) 1);
        int length = ((out.get(6) & 0xff) << 16) | ((out.get(7) & 0xff) << 8) | (out.get(8) & 0xff);
        return ByteBuffer.wrap(Arrays.copyOfRange(out.array(), 9, 9 + length));
    }

    @Test
    void readsSniAndAlpnFromARealClientHello() throws Exception {
        ClientHelloInfo info = ClientHelloInfo.parse(clientHello("Mail.Example.ORG", "imap", "http/1.1"));

        assertThat(info.wellFormed()).isTrue();
        assertThat(info.serverName()).contains("mail.example.org");
        assertThat(info.alpn()).containsExactly("imap", "http/1.1");
    }

    @Test
    void absentExtensionsAreEmpty() throws Exception {
        ClientHelloInfo info = ClientHelloInfo.parse(clientHello(null));

        assertThat(info.wellFormed()).isTrue();
        assertThat(info.serverName()).isEmpty();
        assertThat(info.alpn()).isEmpty();
    }

    @Test
    void truncatedClientHelloIsMalformedNotAnException() throws Exception {
        ByteBuffer full = clientHello("a.example", "smtp");
        for (int cut = 0; cut < full.remaining(); cut += 7) {
            ByteBuffer part = full.duplicate();
            part.limit(cut);
            ClientHelloInfo info = ClientHelloInfo.parse(part);
            // The extensions block's length covers all of them: a cut hello never yields a partial answer.
            assertThat(info.alpn()).as("cut at %d", cut).isEmpty();
            assertThat(info.serverName()).as("cut at %d", cut).isEmpty();
        }
        assertThat(ClientHelloInfo.parse(ByteBuffer.allocate(3)))
                .isEqualTo(new ClientHelloInfo(Optional.empty(), List.of(), false));
    }

    @Property
    void arbitraryBytesNeverThrow(@ForAll byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        ClientHelloInfo info = ClientHelloInfo.parse(in);
        assertThat(in.position()).isZero();
        assertThat(info.alpn()).allSatisfy(id -> assertThat(id).isNotEmpty());
    }
}
