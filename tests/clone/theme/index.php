<!doctype html>
<html><head><?php wp_head(); ?></head>
<body>
<nav><?php wp_nav_menu(['theme_location' => 'primary', 'fallback_cb' => false]); ?></nav>
<main>
<?php while (have_posts()) { the_post(); ?>
<article><h2><a href="<?php the_permalink(); ?>"><?php the_title(); ?></a></h2><?php the_content(); ?></article>
<?php } ?>
</main>
<aside><?php dynamic_sidebar('sidebar-1'); ?></aside>
<?php wp_footer(); ?>
</body></html>
