package dev.optls.gateway.internal.ftp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ftp.FtpReply;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class FtpRepliesTest {
    @Test
    void passiveReplyGivesThePortAndItsAddressIsIgnored() {
        // RFC 959 §4.1.2: h1,h2,h3,h4,p1,p2; vsftpd puts it in parentheses, others do not.
        assertThat(FtpReplies.pasvPort(new FtpReply(227, List.of("Entering Passive Mode (10,0,0,9,195,80).")))
                        .getAsInt())
                .isEqualTo(195 * 256 + 80);
        assertThat(FtpReplies.pasvPort(new FtpReply(227, List.of("=127,0,0,1,4,1")))
                        .getAsInt())
                .isEqualTo(1025);
        assertThat(FtpReplies.pasvPort(new FtpReply(227, List.of("Entering Passive Mode (1,2,3,4,256,1)"))))
                .isEmpty();
        assertThat(FtpReplies.pasvPort(new FtpReply(227, List.of("Entering Passive Mode"))))
                .isEmpty();
    }

    @Test
    void extendedPassiveReplyGivesThePortWithAnyDelimiter() {
        // RFC 2428 §3: (<d><d><d><port><d>), the delimiter any printable ASCII character.
        assertThat(FtpReplies.epsvPort(new FtpReply(229, List.of("Entering Extended Passive Mode (|||50123|)")))
                        .getAsInt())
                .isEqualTo(50123);
        assertThat(FtpReplies.epsvPort(new FtpReply(229, List.of("ok (!!!2121!)")))
                        .getAsInt())
                .isEqualTo(2121);
        assertThat(FtpReplies.epsvPort(new FtpReply(229, List.of("(|||70000|)"))))
                .isEmpty();
        assertThat(FtpReplies.epsvPort(new FtpReply(229, List.of("(||1|2121|)"))))
                .isEmpty();
    }

    @Test
    void gatewayRepliesNameItsOwnPort() throws Exception {
        assertThat(FtpReplies.pasvReply(InetAddress.getByName("127.0.0.1"), 50123))
                .contains("227 Entering Passive Mode (127,0,0,1,195,203).");
        assertThat(FtpReplies.pasvReply(InetAddress.getByName("::1"), 50123)).isEmpty();
        assertThat(FtpReplies.epsvReply(50123)).isEqualTo("229 Entering Extended Passive Mode (|||50123|)");
    }

    @Test
    void featListsPbszAndProtAndDropsWhatTheGatewayAnswers() {
        FtpReply vsftpd = new FtpReply(
                211,
                List.of(
                        "Features:",
                        " EPRT",
                        " EPSV",
                        " MDTM",
                        " PASV",
                        " AUTH TLS",
                        " PBSZ",
                        " PROT",
                        " REST STREAM",
                        " SIZE",
                        " TVFS",
                        " UTF8",
                        "End"));
        assertThat(FtpReplies.featReply(vsftpd))
                .containsExactly(
                        "211-Features:",
                        " PBSZ",
                        " PROT",
                        " EPSV",
                        " MDTM",
                        " PASV",
                        " REST STREAM",
                        " SIZE",
                        " TVFS",
                        " UTF8",
                        "211 End");
        // A one-line 211 (no features) still gets PBSZ and PROT (RFC 4217 §6).
        assertThat(FtpReplies.featReply(new FtpReply(211, List.of("No features"))))
                .containsExactly("211-Features:", " PBSZ", " PROT", "211 End");
    }
}
