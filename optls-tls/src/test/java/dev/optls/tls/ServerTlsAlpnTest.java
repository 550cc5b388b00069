package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The ALPACA selection table of {@link ServerTls}: null means "abort with no_application_protocol". */
class ServerTlsAlpnTest {
    @Test
    void ownIdOfferedIsSelected() {
        assertThat(ServerTls.selectAlpn(Optional.of("imap"), List.of("imap"))).isEqualTo("imap");
        assertThat(ServerTls.selectAlpn(Optional.of("imap"), List.of("h2", "imap")))
                .isEqualTo("imap");
    }

    @Test
    void noAlpnOfferedProceedsWithoutAlpn() {
        assertThat(ServerTls.selectAlpn(Optional.of("imap"), List.of())).isEmpty();
        assertThat(ServerTls.selectAlpn(Optional.empty(), List.of())).isEmpty();
    }

    @Test
    void onlyForeignIdsAreRefused() {
        assertThat(ServerTls.selectAlpn(Optional.of("imap"), List.of("http/1.1", "h2")))
                .isNull();
        assertThat(ServerTls.selectAlpn(Optional.of("pop3"), List.of("imap"))).isNull();
        // SMTP has no id: every offered list is foreign
        assertThat(ServerTls.selectAlpn(Optional.empty(), List.of("http/1.1"))).isNull();
        assertThat(ServerTls.selectAlpn(Optional.empty(), List.of("smtp"))).isNull();
    }
}
