<?php
// Installs WordPress in DOCROOT with its own installer, through the docroot's own
// wp-config.php, and fills it through WordPress's API: users, posts with absolute links,
// an uploaded file, a text widget, a menu with custom URLs, comments with e-mail and IP
// addresses. Used by tests/clone_wordpress.rs: `php wp-fill.php DOCROOT URL`.
[, $understudy_root, $understudy_url] = $argv;
$understudy_host = parse_url($understudy_url, PHP_URL_HOST);
$_SERVER['HTTP_HOST'] = $understudy_host;
$_SERVER['SERVER_NAME'] = $understudy_host;
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
// The installer mails the administrator; there is no mailer here.
function wp_mail() {
    return true;
}
require $understudy_root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

wp_install('Production Site', 'admin', 'admin@mail.example.net', true, '', 'admin-pass');
update_option('siteurl', $understudy_url);
update_option('home', $understudy_url);
switch_theme('understudy-test');

$authors = [];
foreach ([['alice', 'Alice'], ['bob', 'Robert']] as [$login, $first]) {
    $authors[] = wp_insert_user([
        'user_login' => $login, 'user_pass' => "pass-$login", 'role' => 'author',
        'user_email' => "$login@mail.example.net", 'first_name' => $first,
        'display_name' => "$first Production",
    ]);
}
for ($i = 1; $i <= 3; $i++) {
    $post = wp_insert_post([
        'post_title' => "Post $i", 'post_status' => 'publish', 'post_author' => $authors[$i % 2],
        'post_content' => "<p>Read <a href=\"$understudy_url/page-$i/\">page $i</a>, "
            . "<img src=\"$understudy_url/wp-content/uploads/img$i.jpg\" /> and write to "
            . "editor$i@mail.example.net.</p>",
    ]);
    wp_insert_comment([
        'comment_post_ID' => $post, 'comment_author' => "Visitor $i",
        'comment_author_email' => "visitor$i@mail.example.net",
        'comment_author_IP' => "93.184.216.$i", 'comment_content' => "Mail visitor$i@mail.example.net",
        'comment_approved' => 1,
    ]);
}
$upload = wp_upload_bits('hello.txt', null, "uploaded through WordPress\n");
if ($upload['error']) {
    fwrite(STDERR, "upload: {$upload['error']}\n");
    exit(1);
}
wp_insert_attachment(['post_title' => 'hello', 'post_mime_type' => 'text/plain', 'guid' => $upload['url']], $upload['file']);
update_option('widget_text', [
    2 => ['title' => 'About us', 'text' => "Visit <a href=\"$understudy_url/about/\">our about page</a>.", 'filter' => false],
    '_multiwidget' => 1,
]);
update_option('sidebars_widgets', ['wp_inactive_widgets' => [], 'sidebar-1' => ['text-2'], 'array_version' => 3]);
$menu = wp_create_nav_menu('Main');
wp_update_nav_menu_item($menu, 0, [
    'menu-item-title' => 'Contact', 'menu-item-url' => "$understudy_url/contact/",
    'menu-item-status' => 'publish', 'menu-item-type' => 'custom',
]);
set_theme_mod('nav_menu_locations', ['primary' => $menu]);
echo json_encode(['upload' => $upload['url']], JSON_UNESCAPED_SLASHES), "\n";
