package dev.optls.core;

import dev.optls.core.ftp.FtpClient;
import dev.optls.core.ftp.FtpServer;
import dev.optls.core.imap.ImapClient;
import dev.optls.core.imap.ImapServer;
import dev.optls.core.irc.IrcClient;
import dev.optls.core.irc.IrcServer;
import dev.optls.core.ldap.LdapClient;
import dev.optls.core.ldap.LdapServer;
import dev.optls.core.mysql.MysqlClient;
import dev.optls.core.mysql.MysqlServer;
import dev.optls.core.nntp.NntpClient;
import dev.optls.core.nntp.NntpServer;
import dev.optls.core.pop3.Pop3Client;
import dev.optls.core.pop3.Pop3Server;
import dev.optls.core.postgres.PostgresClient;
import dev.optls.core.postgres.PostgresServer;
import dev.optls.core.sieve.SieveClient;
import dev.optls.core.sieve.SieveServer;
import dev.optls.core.smtp.SmtpClient;
import dev.optls.core.smtp.SmtpServer;
import dev.optls.core.xmpp.XmppClient;
import dev.optls.core.xmpp.XmppServer;

/** Creates the client or server negotiation for a protocol. */
public final class Dialects {
    private Dialects() {}

    /** A new client negotiation for one connection. */
    public static Negotiation client(Protocol protocol, ClientOptions options) {
        if (options.greetingOnly()) {
            switch (protocol) {
                case SMTP, SUBMISSION, LMTP, IMAP, POP3, NNTP, FTP -> {}
                default ->
                    throw new IllegalArgumentException(
                            "greetingOnly needs a protocol whose server greets first: not " + protocol.scheme());
            }
        }
        return switch (protocol) {
            case SMTP, SUBMISSION, LMTP -> new SmtpClient(protocol, options);
            case IMAP -> new ImapClient(options);
            case POP3 -> new Pop3Client(options);
            case SIEVE -> new SieveClient(options);
            case POSTGRES -> new PostgresClient(options);
            case LDAP -> new LdapClient(options);
            case MYSQL -> new MysqlClient(options);
            case NNTP -> new NntpClient(options);
            case IRC -> new IrcClient(options);
            case XMPP, XMPP_SERVER -> new XmppClient(protocol, options);
            case FTP -> new FtpClient(options);
        };
    }

    /** A new server negotiation for one connection. */
    public static Negotiation server(Protocol protocol, ServerOptions options) {
        return switch (protocol) {
            case SMTP, SUBMISSION, LMTP -> new SmtpServer(protocol, options);
            case IMAP -> new ImapServer(options);
            case POP3 -> new Pop3Server(options);
            case SIEVE -> new SieveServer(options);
            case POSTGRES -> new PostgresServer(options);
            case LDAP -> new LdapServer(options);
            case MYSQL -> new MysqlServer(options);
            case NNTP -> new NntpServer(options);
            case IRC -> new IrcServer(options);
            case XMPP, XMPP_SERVER -> new XmppServer(protocol, options);
            case FTP -> new FtpServer(options);
        };
    }
}
