package dev.tandem.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordsTest {
    @Test
    void aHashIsSaltedSlowAndVerifiesOnlyItsPassword() {
        String a = Passwords.hash("correct horse"), b = Passwords.hash("correct horse");
        assertThat(a).startsWith("pbkdf2-sha256$600000$").isNotEqualTo(b); // salted
        assertThat(Passwords.verify("correct horse", a)).isTrue();
        assertThat(Passwords.verify("correct horsE", a)).isFalse();
        assertThat(Passwords.verify("correct horse", "pbkdf2-sha256$1$!!$!!")).isFalse();
        assertThat(Passwords.verify("correct horse", "md5$abc")).isFalse();
        assertThat(Passwords.verify("correct horse", null)).isFalse();
        assertThat(Passwords.verify("x", Passwords.hash("x", 1000))).as("the cost is read from the stored value").isTrue();
    }

    @Test
    void tokensAreRandomAndStoredOnlyAsTheirDigest() {
        String t = Passwords.newToken();
        assertThat(t).hasSize(43).isNotEqualTo(Passwords.newToken());
        assertThat(Passwords.tokenId(t)).hasSize(64).doesNotContain(t).isEqualTo(Passwords.tokenId(t));
    }
}
