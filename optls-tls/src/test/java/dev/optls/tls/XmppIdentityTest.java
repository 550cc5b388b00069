package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Protocol;
import dev.optls.testkit.TestPki;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

/** XMPP reference identities: DNS-ID, SRV-ID and XmppAddr (RFC 6120 §13.7.1.2, RFC 6125 / RFC 9525). */
class XmppIdentityTest {
    private static final TestPki PKI = TestPki.create();
    private static final ReferenceIdentity C2S = ReferenceIdentity.xmpp("im.example", false);
    private static final ReferenceIdentity S2S = ReferenceIdentity.xmpp("IM.Example.", true);

    private static X509Certificate srvOnly(String... srv) {
        return PKI.leaf().commonName("not-a-host").srvNames(srv).issue().certificate();
    }

    @Test
    void dnsIdMatchesWithWildcardsAsUsual() {
        assertThat(C2S.matches(PKI.issue("im.example").certificate())).isTrue();
        assertThat(ReferenceIdentity.xmpp("chat.im.example", false)
                        .matches(PKI.issue("*.im.example").certificate()))
                .isTrue();
        assertThat(C2S.mismatch(PKI.issue("other.example").certificate()))
                .hasValueSatisfying(m -> assertThat(m).contains("im.example").contains("DNS:other.example"));
    }

    @Test
    void srvIdMatchesOnlyItsOwnService() {
        X509Certificate client = srvOnly("_xmpp-client.im.example");
        X509Certificate server = srvOnly("_XMPP-SERVER.im.example");
        assertThat(C2S.matches(client)).isTrue();
        assertThat(C2S.matches(server)).isFalse();
        assertThat(S2S.matches(server)).isTrue();
        assertThat(S2S.matches(client)).isFalse();
        assertThat(C2S.mismatch(server))
                .hasValueSatisfying(m ->
                        assertThat(m).contains("SRV:_XMPP-SERVER.im.example").contains("_xmpp-client.im.example"));
    }

    @Test
    void srvIdAndXmppAddrTakeNoWildcards() {
        assertThat(C2S.matches(srvOnly("_xmpp-client.*.example"))).isFalse();
        assertThat(C2S.matches(PKI.leaf().xmppAddrs("*.example").issue().certificate()))
                .isFalse();
    }

    @Test
    void xmppAddrMatchesTheBareDomainOnly() {
        assertThat(C2S.matches(PKI.leaf().xmppAddrs("im.example").issue().certificate()))
                .isTrue();
        assertThat(C2S.matches(PKI.leaf().xmppAddrs("juliet@im.example").issue().certificate()))
                .isFalse();
        assertThat(C2S.matches(PKI.leaf().xmppAddrs("im.example/phone").issue().certificate()))
                .isFalse();
    }

    @Test
    void commonNameOnlyWithoutAnySanIdentifier() {
        assertThat(C2S.matches(PKI.leaf().commonName("im.example").issue().certificate()))
                .isTrue();
        // An SRV-ID for another domain present: the CN no longer counts (RFC 6125 §6.4.4).
        assertThat(C2S.matches(PKI.leaf()
                        .commonName("im.example")
                        .srvNames("_xmpp-client.other.example")
                        .issue()
                        .certificate()))
                .isFalse();
    }

    @Test
    void otherNamesAreDescribedForReports() throws Exception {
        X509Certificate cert = PKI.leaf()
                .srvNames("_xmpp-server.im.example")
                .xmppAddrs("im.example")
                .issue()
                .certificate();
        java.util.List<String> described = cert.getSubjectAlternativeNames().stream()
                .filter(san -> (Integer) san.get(0) == 0)
                .map(san ->
                        ReferenceIdentity.describeOtherName((byte[]) san.get(1)).orElseThrow())
                .toList();
        assertThat(described).containsExactly("SRV:_xmpp-server.im.example", "XmppAddr:im.example");
    }

    @Test
    void plainDnsIdentitiesIgnoreSrvIds() {
        assertThat(ReferenceIdentity.of("im.example").matches(srvOnly("_xmpp-client.im.example")))
                .isFalse();
    }

    @Test
    void forProtocolPicksTheService() {
        assertThat(ReferenceIdentity.forProtocol(Protocol.XMPP, "im.example").srvService())
                .contains("xmpp-client");
        assertThat(ReferenceIdentity.forProtocol(Protocol.XMPP_SERVER, "im.example")
                        .srvService())
                .contains("xmpp-server");
        assertThat(ReferenceIdentity.forProtocol(Protocol.IMAP, "im.example").srvService())
                .isEmpty();
        assertThat(ReferenceIdentity.forProtocol(Protocol.XMPP, "127.0.0.1").isIpAddress())
                .isTrue();
        assertThat(S2S.value()).isEqualTo("im.example");
        assertThat(S2S).isNotEqualTo(C2S).isNotEqualTo(ReferenceIdentity.of("im.example"));
    }
}
