<?php
// A real WordPress (Debian's `wordpress` package) on a test server, used by
// tests/wordpress.rs: `php site.php SOCKET DB install` installs it with WordPress's own
// installer and fills it through WordPress's own API; `php site.php SOCKET DB read` prints,
// as JSON, what WordPress reads back from a copy.
// WordPress's globals include `$action` and `$db`: names of our own.
[, $understudy_socket, $understudy_db, $understudy_action] = $argv;

define('DB_NAME', $understudy_db);
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:' . $understudy_socket);
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
          'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {
    define($key, 'test');
}
$table_prefix = 'wp_';
$_SERVER['HTTP_HOST'] = 'www.example.com';
$_SERVER['SERVER_NAME'] = 'www.example.com';
$_SERVER['REQUEST_URI'] = '/';
define('ABSPATH', getenv('WORDPRESS_DIR') ?: '/usr/share/wordpress/');
if ($understudy_action === 'install') {
    define('WP_INSTALLING', true);
}
// The installer mails the administrator; there is no mailer here.
function wp_mail() {
    return true;
}
require ABSPATH . 'wp-settings.php';

if ($understudy_action === 'install') {
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    wp_install('Understudy Test Site', 'admin', 'admin@www.example.com', true, '', 'admin-pass');
    update_option('siteurl', 'https://www.example.com');
    update_option('home', 'https://www.example.com');
    $authors = [];
    foreach ([['alice', 'Alice', 'Liddell'], ['bob', 'Robert', 'Tables'], ['carol', 'Carol', 'Danvers']]
             as [$login, $first, $last]) {
        $id = wp_insert_user([
            'user_login' => $login, 'user_pass' => "pass-$login",
            'user_email' => "$login@mail.example.net", 'user_url' => "https://$login.example.net/",
            'first_name' => $first, 'last_name' => $last, 'display_name' => "$first $last",
            'description' => "I am $first; mail $login@mail.example.net.", 'role' => 'author',
        ]);
        update_user_meta($id, 'profile_links', [
            'home' => "https://www.example.com/team/$id",
            'avatar' => "https://www.example.com/wp-content/uploads/avatar-$id.png",
        ]);
        $authors[] = $id;
    }
    for ($i = 1; $i <= 20; $i++) {
        $post = wp_insert_post([
            'post_title' => "Post $i: ü, 'single' and \"double\" quotes",
            'post_content' => "<!-- wp:paragraph --><p>See <a href=\"https://www.example.com/page-$i/\">"
                . "page $i</a> and <img src=\"https://www.example.com/wp-content/uploads/img$i.jpg\" />;"
                . " write to editor$i@mail.example.net from 81.2.69.$i.</p><!-- /wp:paragraph -->",
            'post_status' => 'publish', 'post_author' => $authors[$i % 3],
        ]);
        update_post_meta($post, '_links', [
            'url' => "https://www.example.com/p/$i",
            'nested' => serialize(['deep' => "https://www.example.com/deep/$i"]),
        ]);
        update_post_meta($post, '_elementor_data', wp_slash(json_encode([[
            'widgetType' => 'image',
            'settings' => ['url' => "https://www.example.com/wp-content/uploads/e$i.png"],
        ]])));
        wp_insert_comment([
            'comment_post_ID' => $post, 'comment_author' => "Visitor Number$i",
            'comment_author_email' => "visitor$i@mail.example.net",
            'comment_author_url' => "https://visitor$i.example.org/",
            'comment_author_IP' => "93.184.216.$i", 'comment_agent' => 'Mozilla/5.0 (X11)',
            'comment_content' => "Nice! Reach me at visitor$i@mail.example.net", 'comment_approved' => 1,
        ]);
    }
    update_option('widget_text', [
        2 => ['title' => 'About', 'text' => 'Visit <a href="https://www.example.com/about">us</a>'],
        '_multiwidget' => 1,
    ]);
    update_option('plugin_settings', (object) ['endpoint' => 'https://www.example.com/api']);
    // As `set_transient` stores one (it stores none while WordPress is installing).
    update_option('_transient_timeout_feed_cache', time() + 3600, false);
    update_option('_transient_feed_cache', str_repeat('x', 100), false);
    exit(0);
}

global $wpdb;
$serialized = 0;
$broken = [];
foreach ([['wp_options', 'option_name', 'option_value'], ['wp_postmeta', 'meta_key', 'meta_value'],
          ['wp_usermeta', 'meta_key', 'meta_value']] as [$table, $key, $value]) {
    foreach ($wpdb->get_results("SELECT $key AS k, $value AS v FROM $table") as $row) {
        if (is_serialized($row->v)) {
            $serialized++;
            if ($row->v !== 'b:0;' && @unserialize($row->v) === false) {
                $broken[] = "$table.$row->k";
            }
        }
    }
}
$post = get_posts(['numberposts' => 1, 'meta_key' => '_links', 'orderby' => 'ID', 'order' => 'ASC'])[0];
$links = get_post_meta($post->ID, '_links', true);
$users = get_users(['orderby' => 'ID']);
echo json_encode([
    'siteurl' => get_option('siteurl'),
    'home' => get_option('home'),
    'serialized' => $serialized,
    'broken' => $broken,
    'widget_text' => get_option('widget_text')[2]['text'],
    'plugin_endpoint' => get_option('plugin_settings')->endpoint,
    'post_content' => $post->post_content,
    'post_links' => [$links['url'], unserialize($links['nested'])['deep']],
    'elementor' => json_decode(get_post_meta($post->ID, '_elementor_data', true), true)[0]['settings']['url'],
    'profile_links' => array_values(get_user_meta($users[1]->ID, 'profile_links', true)),
    'logins' => array_map(fn ($u) => $u->user_login, $users),
    'understudy_logs_in' => array_map(fn ($u) => wp_check_password('understudy', $u->user_pass, $u->ID), $users),
    'transient' => get_transient('feed_cache'),
]), "\n";
